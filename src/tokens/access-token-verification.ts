import type { KeyObject } from 'node:crypto';
import { setBounded } from '../lib/bounded-map.js';
import { decodeCompactJws, verifyCompactJwsSignature } from '../lib/jws.js';
import type { AccessTokenClaims } from './access-token.js';

/** What checking one of our access tokens found. */
export type AccessTokenCheck =
  | { valid: true; claims: AccessTokenClaims }
  /** Signed by one of our keys but naming another issuer: instances configured apart (worth a warning). */
  | { valid: false; foreignIssuer: string }
  | { valid: false; foreignIssuer?: undefined };

export interface AccessTokenVerificationKeys {
  /** The public key our tokens with this kid verify with; undefined once the key has left the JWKS. */
  keyFor(kid: string): KeyObject | undefined;
}

/** Most verified tokens remembered per process (about a kilobyte each). */
export const VERIFIED_ACCESS_TOKENS_MAX = 10_000;

const INVALID: AccessTokenCheck = Object.freeze({ valid: false });
const REQUIRED_STRINGS = ['jti', 'sub', 'client_id', 'scope'] as const;

/**
 * Checks an access token as RFC 9068 §4 asks of the issuer's own tokens: header `typ` at+jwt (or
 * application/at+jwt), `alg` RS256, no `crit`, a `kid` of a key we publish, the signature, `iss`,
 * `exp` in the future, `nbf` (if any) passed, and the claims the rest of Gatehouse reads. The same
 * checks jose's jwtVerify made here before, without its generic key selection and option handling,
 * which cost more than the RSA verification itself at /introspect.
 *
 * A resource server asks about the same token on every call it receives with it, so the outcome of
 * the signature and issuer checks is remembered per token string (bounded, oldest first out), tied
 * to the key object it verified with: a key removed from the JWKS, or replaced, ends the memory at
 * once. Expiry and everything that can revoke a token are checked on every call all the same.
 */
export function createAccessTokenVerifier(options: { issuer: string; keys: AccessTokenVerificationKeys; maxRemembered?: number | undefined }) {
  const maxRemembered = options.maxRemembered ?? VERIFIED_ACCESS_TOKENS_MAX;
  const verified = new Map<string, { claims: AccessTokenClaims; kid: string; key: KeyObject }>();

  const timely = (claims: AccessTokenClaims, now: Date): boolean => {
    const seconds = Math.floor(now.getTime() / 1000);
    const nbf = (claims as { nbf?: unknown }).nbf;
    return claims.exp > seconds && (nbf === undefined || (typeof nbf === 'number' && nbf <= seconds));
  };

  return {
    async check(token: string, now: Date): Promise<AccessTokenCheck> {
      const known = verified.get(token);
      if (known !== undefined && options.keys.keyFor(known.kid) === known.key) {
        return timely(known.claims, now) ? { valid: true, claims: known.claims } : INVALID;
      }
      const parts = decodeCompactJws(token);
      if (!parts?.header || !parts.payload) return INVALID;
      const { header, payload } = parts;
      if (header.alg !== 'RS256' || header.crit !== undefined || typeof header.kid !== 'string') return INVALID;
      if (typeof header.typ !== 'string' || header.typ.toLowerCase().replace(/^application\//, '') !== 'at+jwt') return INVALID;
      const key = options.keys.keyFor(header.kid);
      if (key === undefined || !(await verifyCompactJwsSignature(token, key, 'RS256'))) return INVALID;
      // Signed by us from here on; still checked, as any verifier would.
      if (payload.iss !== options.issuer) return typeof payload.iss === 'string' ? { valid: false, foreignIssuer: payload.iss } : INVALID;
      if (typeof payload.exp !== 'number' || typeof payload.iat !== 'number') return INVALID;
      if (payload.nbf !== undefined && typeof payload.nbf !== 'number') return INVALID;
      if (REQUIRED_STRINGS.some((claim) => typeof payload[claim] !== 'string')) return INVALID;
      if (payload.sid !== undefined && typeof payload.sid !== 'string') return INVALID;
      // Shared by every later call with this token: nobody may change it.
      const claims = Object.freeze(payload) as unknown as AccessTokenClaims;
      if (!timely(claims, now)) return INVALID;
      setBounded(verified, maxRemembered, token, { claims, kid: header.kid, key });
      return { valid: true, claims };
    },
  };
}

export type AccessTokenVerifier = ReturnType<typeof createAccessTokenVerifier>;
