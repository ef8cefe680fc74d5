import type { Middleware } from 'koa';
import type { Deps } from '../deps.js';
import { InsufficientScope, InvalidToken, MissingToken } from '../errors.js';
import { verifyAccessToken } from '../services/introspection.js';
import type { AccessTokenClaims } from '../tokens/access-token.js';

export interface AdminPrincipal {
  clientId: string;
  subject: string;
  username: string | undefined;
  /** For the audit log: `admin:<client_id>` or `admin:<client_id>/<username>`. */
  actor: string;
}

declare module 'koa' {
  interface DefaultState {
    admin?: AdminPrincipal;
  }
}

/**
 * RFC 6750 bearer authentication with one of our own access tokens (signature, exp, and
 * revocation checked as at /introspect), carrying `scope`.
 */
export function bearerAuth(deps: Deps, scope: string): Middleware {
  return async (ctx, next) => {
    const header = ctx.get('Authorization');
    if (!header) throw new MissingToken();
    const match = /^Bearer +([\x21-\x7E]+) *$/i.exec(header);
    if (!match?.[1]) throw new InvalidToken('the Authorization header is not a Bearer token');
    const claims: AccessTokenClaims | undefined = await verifyAccessToken(deps, match[1]);
    if (!claims) throw new InvalidToken();
    if (!claims.scope.split(' ').includes(scope)) throw new InsufficientScope(scope);
    ctx.state.admin = {
      clientId: claims.client_id,
      subject: claims.sub,
      username: claims.username,
      actor: `admin:${claims.client_id}${claims.username ? `/${claims.username}` : ''}`,
    };
    await next();
  };
}
