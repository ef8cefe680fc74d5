import type { Middleware } from 'koa';
import type { Deps } from '../deps.js';
import { InvalidToken, MissingToken } from '../errors.js';
import { digestsEqual, sha256Hex } from '../lib/hash.js';

/**
 * GET /metrics: Prometheus text exposition of this process. With METRICS_TOKEN set, only for
 * `Authorization: Bearer <METRICS_TOKEN>` (RFC 6750 §2.1), compared in constant time through
 * SHA-256 digests; without it, open, as the contract lists it among the public endpoints.
 */
export function metricsEndpoint(deps: Deps): Middleware {
  const expected = deps.config.metricsToken === undefined ? undefined : sha256Hex(deps.config.metricsToken);
  return async (ctx) => {
    if (expected !== undefined) {
      const authorization = ctx.get('Authorization');
      if (authorization === '') throw new MissingToken('the metrics token is required');
      const presented = /^Bearer +([\x21-\x7E]+) *$/i.exec(authorization)?.[1];
      if (presented === undefined || !digestsEqual(sha256Hex(presented), expected)) throw new InvalidToken('the metrics token is missing or wrong');
    }
    ctx.set('Cache-Control', 'no-store');
    ctx.type = deps.metrics.registry.contentType;
    ctx.body = await deps.metrics.registry.metrics();
  };
}
