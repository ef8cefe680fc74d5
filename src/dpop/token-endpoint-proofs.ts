import type { Config } from '../config.js';
import { InvalidDpopProof } from '../errors.js';
import type { Clock } from '../lib/clock.js';
import type { ReplayCache } from '../services/replay-cache.js';
import { createDpopKeyCache, type DpopKeyCache } from './key-cache.js';
import { createDpopNonces, deriveDpopNonceSecret, type DpopNonces } from './nonce.js';
import { DPOP_SIGNING_ALGORITHMS, dpopReplayKey, verifyDpopProof, type VerifiedDpopProof } from './verify-proof.js';

/** DPoP at the token endpoint (RFC 9449 §5): one object per app, made in createDeps. */
export interface TokenEndpointDpop {
  /** `dpop_signing_alg_values_supported`. */
  algorithms: readonly string[];
  /** DPOP_NONCE: the nonce every /token answer carries; undefined when nonces are off. */
  currentNonce(): string | undefined;
  /**
   * Checks the DPoP header fields of a token request (RFC 9449 §4.3: htm POST, htu the token
   * endpoint, the nonce with DPOP_NONCE) and claims the proof's jti in the shared replay cache.
   * Undefined when the request carries no DPoP header; InvalidDpopProof or UseDpopNonce otherwise.
   */
  verifyTokenRequest(headerValues: readonly string[] | undefined): Promise<VerifiedDpopProof | undefined>;
}

export function createTokenEndpointDpop(
  config: Pick<Config, 'issuer' | 'dpopNonce' | 'keyEncryptionSecret'>,
  clock: Clock,
  replayCache: ReplayCache,
  options: { keyCache?: DpopKeyCache; nonces?: DpopNonces } = {},
): TokenEndpointDpop {
  const keyCache = options.keyCache ?? createDpopKeyCache();
  const nonces = config.dpopNonce
    ? (options.nonces ?? createDpopNonces({ secret: deriveDpopNonceSecret(config.keyEncryptionSecret as string), clock }))
    : undefined;
  // ISSUER has no trailing slash, query or fragment (config.ts), so this is the URL clients post to.
  const tokenEndpoint = `${config.issuer}/token`;
  return {
    algorithms: DPOP_SIGNING_ALGORITHMS,
    currentNonce: () => nonces?.current(),
    async verifyTokenRequest(headerValues) {
      if (headerValues === undefined || headerValues.length === 0) return undefined;
      const proof = await verifyDpopProof(headerValues, { method: 'POST', url: tokenEndpoint, requiredNonce: nonces }, { now: clock.now(), keyCache });
      // Kept until the proof could no longer be accepted anyway: after that its iat refuses it.
      if (!(await replayCache.remember(dpopReplayKey(proof), proof.acceptedUntil))) {
        throw new InvalidDpopProof('the DPoP proof "jti" has been used before: make a new proof for every request');
      }
      return proof;
    },
  };
}
