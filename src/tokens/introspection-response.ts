import { SignJWT } from 'jose';
import type { ActiveSigningKey } from '../keys/key-service.js';
import { epochSeconds } from '../lib/clock.js';

/** RFC 9701 §4: the media type a caller asks for (Accept) and the answer is served as. */
export const JWT_INTROSPECTION_MEDIA_TYPE = 'application/token-introspection+jwt';
/** `introspection_signing_alg_values_supported`: signed like the access tokens. */
export const INTROSPECTION_SIGNING_ALGORITHMS: readonly string[] = Object.freeze(['RS256']);

/**
 * RFC 9701 §5: the RFC 7662 answer as a JWT signed with the current key (a key of the JWKS), for
 * the calling client (`aud`), with `iss` and `iat`, the answer itself in `token_introspection`.
 */
export function signIntrospectionResponse(
  key: ActiveSigningKey,
  input: { issuer: string; audience: string; now: Date; introspection: Record<string, unknown> },
): Promise<string> {
  return new SignJWT({ token_introspection: input.introspection })
    .setProtectedHeader({ alg: 'RS256', typ: 'token-introspection+jwt', kid: key.kid })
    .setIssuer(input.issuer)
    .setAudience(input.audience)
    .setIssuedAt(epochSeconds(input.now))
    .sign(key.privateKey);
}
