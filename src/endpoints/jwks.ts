import type { Deps } from '../deps.js';
import type { CachedDocument, ServedDocument } from '../http/etag.js';

/**
 * GET /.well-known/jwks.json, from memory (the KeyService keeps it serialised with its ETag). Caches
 * may keep it for half the publish-ahead time, so a resource server always learns a new key before
 * it signs anything (capped at one hour).
 */
export function jwksDocument(deps: Deps): ServedDocument {
  const cacheControl = `public, max-age=${Math.max(0, Math.min(3600, Math.floor(deps.config.keyPublishAhead / 2)))}`;
  const current = (): CachedDocument => {
    const { body, etag } = deps.keys.jwks();
    return { body, etag, type: 'application/jwk-set+json', cacheControl };
  };
  return { current, refreshed: async () => current() };
}
