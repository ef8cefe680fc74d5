import type { Middleware } from 'koa';
import type { Deps } from '../deps.js';
import { answerWithEtag } from '../http/etag.js';

/**
 * GET /.well-known/jwks.json from memory. Caches may keep it for half the publish-ahead time, so a
 * resource server always learns a new key before it signs anything (capped at one hour).
 */
export function jwksEndpoint(deps: Deps): Middleware {
  const maxAge = Math.max(0, Math.min(3600, Math.floor(deps.config.keyPublishAhead / 2)));
  return async (ctx) => {
    const { body, etag } = deps.keys.jwks();
    answerWithEtag(ctx, { body, etag, type: 'application/jwk-set+json', cacheControl: `public, max-age=${maxAge}` });
  };
}
