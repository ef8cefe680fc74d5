/**
 * Following Gatehouse's Token Status List (draft-ietf-oauth-status-list) from a resource server:
 * jose verifies the status list token against the same JWKS as the access tokens, and
 * @sd-jwt/jwt-status-list (the draft's reference implementation) reads the bit. Each list is
 * cached for its `ttl` (and never beyond the `max-age` it was served with), then revalidated with
 * its ETag, so a revocation reaches this server within STATUS_LIST_TTL without a call per request
 * and without /introspect.
 *
 * Fail closed: when a list cannot be fetched or verified and no copy fetched within its ttl is at
 * hand, the answer is "unknown" and the caller refuses the request (503). A stale copy is never
 * used: a revocation could be hiding behind the outage.
 */
import { getListFromStatusListJWT, type StatusList } from '@sd-jwt/jwt-status-list';
import { createRemoteJWKSet, jwtVerify, type JWTPayload, type JWTVerifyGetKey } from 'jose';

/** What an access token says about its status (draft §6.1). */
export interface StatusClaim {
  status?: { status_list?: { idx?: unknown; uri?: unknown } };
}

export type TokenStatus = 'valid' | 'revoked' | 'unknown';

interface CachedList {
  list: StatusList;
  etag: string | null;
  /** Date.now() until which the list may be used without asking again. */
  freshUntil: number;
}

/** Seconds in `Cache-Control: max-age=N`, if any. */
function maxAgeOf(header: string | null): number | undefined {
  const match = /(?:^|,)\s*max-age=(\d+)/i.exec(header ?? '');
  return match ? Number(match[1]) : undefined;
}

/**
 * A checker for one issuer. `check(payload)` answers from the cache while it is fresh; concurrent
 * checks of one list share one fetch. Only lists under the issuer's own URL are followed, so a
 * token cannot send this server to fetch an arbitrary address.
 */
export function createStatusListChecker(options: { issuer: string; jwks?: JWTVerifyGetKey; now?: () => number }) {
  const now = options.now ?? Date.now;
  // The same keys as the access tokens; found through the RFC 8414 metadata unless given.
  let discovered: JWTVerifyGetKey | undefined;
  const jwks: JWTVerifyGetKey =
    options.jwks ??
    (async (header, token) => {
      if (!discovered) {
        const metadata = (await (await fetch(`${options.issuer}/.well-known/oauth-authorization-server`)).json()) as { issuer?: string; jwks_uri?: string };
        if (metadata.issuer !== options.issuer || !metadata.jwks_uri) throw new Error('unexpected metadata');
        discovered = createRemoteJWKSet(new URL(metadata.jwks_uri));
      }
      return discovered(header, token);
    });
  const cache = new Map<string, CachedList>();
  const fetching = new Map<string, Promise<CachedList | undefined>>();

  async function fetchList(uri: string): Promise<CachedList | undefined> {
    const cached = cache.get(uri);
    try {
      const response = await fetch(uri, { headers: cached?.etag ? { 'If-None-Match': cached.etag } : {} });
      const maxAge = maxAgeOf(response.headers.get('Cache-Control'));
      if (response.status === 304 && cached) {
        const refreshed = { ...cached, freshUntil: now() + Math.min(maxAge ?? 0, 3600) * 1000 };
        cache.set(uri, refreshed);
        return refreshed;
      }
      if (response.status !== 200) return undefined;
      const token = await response.text();
      const { payload } = await jwtVerify<JWTPayload & { ttl?: number }>(token, jwks, {
        issuer: options.issuer,
        subject: uri,
        typ: 'statuslist+jwt',
        requiredClaims: ['iat', 'exp'],
      });
      const ttl = typeof payload.ttl === 'number' ? payload.ttl : 0;
      const seconds = Math.min(ttl, maxAge ?? ttl, (payload.exp as number) - Math.floor(now() / 1000));
      const entry = { list: getListFromStatusListJWT(token), etag: response.headers.get('ETag'), freshUntil: now() + Math.max(0, seconds) * 1000 };
      cache.set(uri, entry);
      return entry;
    } catch {
      return undefined;
    }
  }

  return {
    async check(payload: StatusClaim): Promise<TokenStatus> {
      const idx = payload.status?.status_list?.idx;
      const uri = payload.status?.status_list?.uri;
      // Gatehouse puts a status in every access token: a token without one is not to be trusted.
      if (typeof uri !== 'string' || !uri.startsWith(`${options.issuer}/`) || typeof idx !== 'number' || !Number.isInteger(idx) || idx < 0) {
        return 'unknown';
      }
      let entry = cache.get(uri);
      if (!entry || entry.freshUntil <= now()) {
        let pending = fetching.get(uri);
        if (!pending) {
          pending = fetchList(uri).finally(() => fetching.delete(uri));
          fetching.set(uri, pending);
        }
        entry = await pending;
      }
      // Just fetched, or fresh: either way current to within the ttl.
      if (!entry) return 'unknown';
      try {
        return entry.list.getStatus(idx) === 0 ? 'valid' : 'revoked';
      } catch {
        return 'unknown';
      }
    },
  };
}
