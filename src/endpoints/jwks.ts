import type { Middleware } from 'koa';
import type { Deps } from '../deps.js';
import { answerWithEtag, type CachedDocument } from '../http/etag.js';

/**
 * The JWKS as it is now, from memory. Caches may keep it for half the publish-ahead time, so a
 * resource server always learns a new key before it signs anything (capped at one hour).
 */
export function currentJwks(deps: Deps): () => CachedDocument {
  const cacheControl = `public, max-age=${Math.max(0, Math.min(3600, Math.floor(deps.config.keyPublishAhead / 2)))}`;
  return () => {
    const { body, etag } = deps.keys.jwks();
    return { body, etag, type: 'application/jwk-set+json', cacheControl };
  };
}

/** GET /.well-known/jwks.json (usually answered before Koa: src/http/documents-before-koa.ts). */
export function jwksEndpoint(deps: Deps): Middleware {
  const current = currentJwks(deps);
  return async (ctx) => {
    answerWithEtag(ctx, current());
  };
}
