import { createHash } from 'node:crypto';
import type { JWK } from 'jose';
import { InvalidDpopProof, UseDpopNonce } from '../errors.js';
import { jwkAlgorithmProblem, publicJwkProblem, publicKeyMembers } from '../lib/jwk.js';
import { compactJwsSegments, decodeJsonPart, verifyCompactJwsSignature } from '../lib/jws.js';
import { htuMatches } from './htu.js';
import { uncachedDpopKeys, type CheckedDpopHeader, type DpopKey, type DpopKeyCache } from './key-cache.js';
import type { DpopNonces } from './nonce.js';

/** Algorithms a DPoP proof may be signed with (`dpop_signing_alg_values_supported`). */
export const DPOP_SIGNING_ALGORITHMS: readonly string[] = Object.freeze([
  'ES256',
  'ES384',
  'ES512',
  'PS256',
  'PS384',
  'PS512',
  'RS256',
  'RS384',
  'RS512',
  'EdDSA',
  'Ed25519',
]);

/** How old a proof may be (by its iat) and still be accepted. */
export const DPOP_MAX_AGE_SECONDS = 60;
/** How far ahead of the server's clock a proof's iat may be (the client's clock runs fast). */
export const DPOP_FUTURE_SKEW_SECONDS = 5;
/** Longest jti accepted; RFC 9449 §4.2 asks for at least 96 bits of randomness, a few dozen characters. */
export const DPOP_MAX_JTI_LENGTH = 256;
/** Longest proof accepted: a 4096-bit RSA key in the header still fits a few times over. */
export const DPOP_MAX_PROOF_LENGTH = 8192;

/** What the request the proof came with looks like. */
export interface DpopExpectations {
  /** The HTTP method of the request (`htm`). */
  method: string;
  /** The URL the request was sent to (`htu`); query and fragment are ignored on both sides. */
  url: string;
  /** At a resource server: the access token sent with the proof, which `ath` must hash to. */
  accessToken?: string | undefined;
  /** When given, the proof must carry a nonce these accept; otherwise UseDpopNonce with a fresh one. */
  requiredNonce?: DpopNonces | undefined;
}

export interface DpopVerifyOptions {
  now: Date;
  maxAgeSeconds?: number | undefined;
  futureSkewSeconds?: number | undefined;
  /** Defaults to DPOP_SIGNING_ALGORITHMS; only asymmetric algorithms can ever pass. */
  algorithms?: readonly string[] | undefined;
  /** Keys already imported (createDpopKeyCache, one per process); without it every key is imported anew. */
  keyCache?: DpopKeyCache | undefined;
}

export interface VerifiedDpopProof {
  /** RFC 7638 SHA-256 thumbprint of the proof's key: `cnf.jkt` of a bound token. */
  jkt: string;
  jti: string;
  iat: number;
  /** The public key of the proof, its public members only. */
  publicJwk: JWK;
  /** The server nonce the proof carried, when one was required and it was valid. */
  nonce?: string;
  /** The last moment this proof could be accepted: how long its jti must be remembered against replay. */
  acceptedUntil: Date;
}

const invalid = (description: string, cause?: unknown): InvalidDpopProof => new InvalidDpopProof(description, cause === undefined ? undefined : { cause });

/** `ath` (RFC 9449 §4.2): base64url SHA-256 of the ASCII access token. */
export function accessTokenHash(accessToken: string): string {
  return createHash('sha256').update(accessToken, 'ascii').digest('base64url');
}

/** The key under which a proof's jti is remembered: per key, so one client's jti never blocks another's. */
export function dpopReplayKey(proof: Pick<VerifiedDpopProof, 'jkt' | 'jti'>): string {
  return JSON.stringify(['dpop', proof.jkt, proof.jti]);
}

/**
 * Checks a DPoP proof as RFC 9449 §4.3 says (the comments number its steps; the key is checked
 * before it is used, the claims only once the signature holds) and returns what a bound token needs.
 * `headerValues` are the request's DPoP header fields as received (Node joins repeated fields with
 * ", ": a comma, which no JWS contains, means more than one). Throws InvalidDpopProof naming the
 * first check that failed (never echoing the proof), or UseDpopNonce when everything else is right
 * but a required nonce is missing or no longer current. The jti is not checked against replay here:
 * the caller remembers `dpopReplayKey(proof)` until `acceptedUntil` in the shared replay cache.
 */
export async function verifyDpopProof(
  headerValues: string | readonly string[] | undefined,
  expectations: DpopExpectations,
  options: DpopVerifyOptions,
): Promise<VerifiedDpopProof> {
  // 1. Exactly one DPoP header field.
  const values = headerValues === undefined ? [] : typeof headerValues === 'string' ? [headerValues] : headerValues;
  if (values.length === 0) throw invalid('a DPoP proof is required: send one DPoP header');
  if (values.length > 1 || (values[0] as string).includes(',')) throw invalid('send exactly one DPoP header');
  const proof = (values[0] as string).trim();

  // 2. A single, well-formed compact JWS.
  if (proof.length > DPOP_MAX_PROOF_LENGTH) throw invalid(`the DPoP proof is longer than ${DPOP_MAX_PROOF_LENGTH} characters`);
  const segments = compactJwsSegments(proof);
  if (!segments) throw invalid('the DPoP proof is not a compact JWS (three base64url parts separated by dots)');
  const keyCache = options.keyCache ?? uncachedDpopKeys;
  const algorithms = options.algorithms ?? DPOP_SIGNING_ALGORITHMS;
  let header = keyCache.checkedHeader(segments[0]);
  const decodedHeader = header ? undefined : decodeJsonPart(segments[0]);
  if (!header && !decodedHeader) throw invalid('the DPoP proof header is not a base64url-encoded JSON object');
  const payload = decodeJsonPart(segments[1]);
  if (!payload) throw invalid('the DPoP proof payload is not a base64url-encoded JSON object');
  if (!header) {
    header = await checkHeader(decodedHeader as Record<string, unknown>, algorithms, keyCache);
    keyCache.rememberHeader(segments[0], header);
  } else if (!algorithms.includes(header.alg)) {
    // 5. A header found good for another caller: its alg must still be one this caller accepts.
    throw unsupportedAlgorithm(algorithms);
  }
  const { alg, key } = header;

  // 6. The signature verifies with the header's key.
  if (!(await verifyCompactJwsSignature(proof, key.key, alg))) throw invalid('the DPoP proof signature does not verify with its "jwk"');

  // 3. The claims RFC 9449 §4.2 requires.
  const { jti, htm, htu, iat } = payload;
  if (typeof jti !== 'string' || jti === '') throw invalid('the DPoP proof has no "jti" (a non-empty string)');
  if (jti.length > DPOP_MAX_JTI_LENGTH) throw invalid(`the DPoP proof "jti" is longer than ${DPOP_MAX_JTI_LENGTH} characters`);
  if (typeof htm !== 'string' || htm === '') throw invalid('the DPoP proof has no "htm" (a string)');
  if (typeof htu !== 'string' || htu === '') throw invalid('the DPoP proof has no "htu" (a string)');
  if (typeof iat !== 'number' || !Number.isFinite(iat)) throw invalid('the DPoP proof has no "iat" (a number of seconds)');

  // 8. htm, 9. htu.
  if (htm !== expectations.method) throw invalid(`the DPoP proof "htm" does not match the request method ${expectations.method}`);
  if (!htuMatches(htu, expectations.url))
    throw invalid(`the DPoP proof "htu" does not match ${stripQueryAndFragment(expectations.url)}, the URL this endpoint is served at`);

  // 11. Recent enough.
  const maxAge = options.maxAgeSeconds ?? DPOP_MAX_AGE_SECONDS;
  const futureSkew = options.futureSkewSeconds ?? DPOP_FUTURE_SKEW_SECONDS;
  const now = options.now.getTime() / 1000;
  if (iat < now - maxAge) throw invalid(`the DPoP proof is too old: its "iat" is more than ${maxAge} seconds ago`);
  if (iat > now + futureSkew) throw invalid('the DPoP proof "iat" is in the future: check the client clock');

  // 12. With an access token: ath.
  if (expectations.accessToken !== undefined) {
    if (typeof payload.ath !== 'string' || payload.ath === '') throw invalid('the DPoP proof has no "ath", the hash of the access token sent with it');
    if (payload.ath !== accessTokenHash(expectations.accessToken)) throw invalid('the DPoP proof "ath" does not match the access token sent with it');
  }

  // 10. The server nonce, last: UseDpopNonce means the proof is right except for it.
  const nonce = optionalString(payload.nonce);
  if (nonce === false) throw invalid('the DPoP proof "nonce" must be a string');
  const required = expectations.requiredNonce;
  if (required !== undefined) {
    if (nonce === undefined) throw new UseDpopNonce(required.current(), 'the authorization server requires a nonce in the DPoP proof');
    if (!required.isValid(nonce)) throw new UseDpopNonce(required.current(), 'the DPoP proof nonce is not current: use the one in the DPoP-Nonce header');
  }

  return {
    jkt: key.jkt,
    jti,
    iat,
    publicJwk: header.publicJwk,
    ...(required !== undefined && nonce !== undefined ? { nonce } : {}),
    acceptedUntil: new Date((iat + maxAge) * 1000),
  };
}

/**
 * Steps 4, 5 and 7 of RFC 9449 §4.3 on a decoded header: typ; an asymmetric alg we support; a
 * public jwk fit for alg (checked before the key is used at all); no `crit`. Then the key itself.
 */
async function checkHeader(header: Record<string, unknown>, algorithms: readonly string[], keyCache: DpopKeyCache): Promise<CheckedDpopHeader> {
  // 4. typ, 5. alg.
  if (header.typ !== 'dpop+jwt') throw invalid('the DPoP proof header "typ" must be "dpop+jwt"');
  const alg = header.alg;
  if (typeof alg !== 'string') throw invalid('the DPoP proof header has no "alg"');
  if (alg === 'none') throw invalid('the DPoP proof must be signed: alg "none" is not allowed');
  if (/^HS/i.test(alg)) throw invalid('the DPoP proof must use an asymmetric algorithm: HMAC (HS*) is not allowed');
  if (!algorithms.includes(alg) || !DPOP_SIGNING_ALGORITHMS.includes(alg)) throw unsupportedAlgorithm(algorithms);

  // 7. A public key in jwk, fit for alg.

  if (header.jwk === undefined) throw invalid('the DPoP proof header has no "jwk"');
  const keyProblem = publicJwkProblem(header.jwk);
  if (keyProblem !== undefined) throw invalid(`the DPoP proof header "jwk" is not usable: ${keyProblem}`);
  const jwk = header.jwk as JWK;
  const algorithmProblem = jwkAlgorithmProblem(jwk, alg);
  if (algorithmProblem !== undefined) throw invalid(`the DPoP proof header "jwk" does not fit "alg": ${algorithmProblem}`);

  // RFC 7515 §4.1.11: an extension we do not understand, marked critical, must be refused.
  if (header.crit !== undefined) throw invalid('the DPoP proof header has "crit"; no JWS extensions are supported');

  let key: DpopKey;
  try {
    key = await keyCache.resolve(jwk);
  } catch (error) {
    throw invalid('the DPoP proof header "jwk" is not a valid public key', error);
  }
  return { alg, key, publicJwk: publicKeyMembers(jwk, { keepMetadata: false }) };
}

function unsupportedAlgorithm(algorithms: readonly string[]): InvalidDpopProof {
  return invalid(`the DPoP proof algorithm is not supported (one of ${algorithms.join(', ')})`);
}

/** The value when it is a string, undefined when absent, false when it is something else. */
function optionalString(value: unknown): string | undefined | false {
  if (value === undefined) return undefined;
  return typeof value === 'string' ? value : false;
}

function stripQueryAndFragment(url: string): string {
  return url.replace(/[?#].*$/s, '');
}
