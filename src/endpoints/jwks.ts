import type { Middleware } from 'koa';
import type { Deps } from '../deps.js';
import { matchesIfNoneMatch } from '../http/etag.js';

/**
 * GET /.well-known/jwks.json from memory. Caches may keep it for half the publish-ahead time, so a
 * resource server always learns a new key before it signs anything (capped at one hour).
 */
export function jwksEndpoint(deps: Deps): Middleware {
  const maxAge = Math.max(0, Math.min(3600, Math.floor(deps.config.keyPublishAhead / 2)));
  return async (ctx) => {
    const { body, etag } = deps.keys.jwks();
    ctx.set('Cache-Control', `public, max-age=${maxAge}`);
    ctx.set('ETag', etag);
    ctx.type = 'application/jwk-set+json';
    if (matchesIfNoneMatch(ctx.get('If-None-Match'), etag)) {
      ctx.status = 304;
      return;
    }
    ctx.body = body;
  };
}
