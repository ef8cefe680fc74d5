import type { Context, Middleware } from 'koa';
import type { Deps } from '../deps.js';
import { InsufficientScope, InvalidToken, MissingToken } from '../errors.js';
import type { Actor } from '../services/actor.js';
import { verifyAccessToken } from '../services/introspection.js';
import { authorizationHeader } from './authorization-header.js';
import { findUser } from '../services/users.js';
import type { AccessTokenClaims } from '../tokens/access-token.js';

declare module 'koa' {
  interface DefaultState {
    /** The admin API caller, as the services see it. */
    admin?: Extract<Actor, { type: 'admin' }>;
  }
}

/** The caller bearerAuth authenticated. */
export function adminActor(ctx: Context): Extract<Actor, { type: 'admin' }> {
  if (!ctx.state.admin) throw new Error('adminActor needs bearerAuth first');
  return ctx.state.admin;
}

/** RFC 7519 §4.1.3: `aud` is one string or a list of them. */
function audienceIncludes(aud: unknown, expected: string): boolean {
  return aud === expected || (Array.isArray(aud) && aud.includes(expected));
}

/**
 * The token's scopes that its client (and, for a user's token, its user) still holds: an admin scope
 * taken away counts at once, not only once the tokens issued before have expired. Disabled or
 * deleted subjects have no live tokens (their grants end with them), so they are not looked for here.
 */
async function scopesHeldNow(deps: Pick<Deps, 'db' | 'clientAuthentication'>, claims: AccessTokenClaims): Promise<string[]> {
  const [found, user] = await Promise.all([
    deps.clientAuthentication.findClient(claims.client_id),
    claims.sid === undefined ? undefined : findUser(deps.db, claims.sub),
  ]);
  const held = new Set(found?.client.scopes ?? []);
  return claims.scope.split(' ').filter((scope) => held.has(scope) && (claims.sid === undefined || user?.scopes.includes(scope) === true));
}

/**
 * RFC 6750 bearer authentication with one of our own access tokens (signature, exp, and
 * revocation checked as at /introspect), meant for this API (`aud` includes the issuer, as every
 * resource server must check its own audience) and carrying `scope`, which its client and user
 * still hold.
 */
export function bearerAuth(deps: Deps, scope: string): Middleware {
  return async (ctx, next) => {
    const header = authorizationHeader(ctx);
    if (!header) throw new MissingToken();
    const match = /^Bearer +([\x21-\x7E]+) *$/i.exec(header);
    if (!match?.[1]) throw new InvalidToken('the Authorization header is not a Bearer token');
    const claims: AccessTokenClaims | undefined = await verifyAccessToken(deps, match[1]);
    if (!claims) throw new InvalidToken();
    // RFC 9449 §7.2: a DPoP-bound token is not a bearer token. The admin API takes Bearer tokens
    // only, so a bound one (stolen or not) is refused rather than accepted without its key.
    if (claims.cnf !== undefined) throw new InvalidToken('the access token is DPoP-bound; the admin API accepts only Bearer tokens');
    if (!audienceIncludes(claims.aud, deps.config.issuer)) throw new InvalidToken('the access token is not meant for this API (aud)');
    const scopes = await scopesHeldNow(deps, claims);
    if (!scopes.includes(scope)) throw new InsufficientScope(scope);
    ctx.state.admin = {
      type: 'admin',
      clientId: claims.client_id,
      // A user's token has the grant (sid) and the user's id as sub; a client's own token has neither.
      userId: claims.sid === undefined ? null : claims.sub,
      scopes,
    };
    await next();
  };
}
