import type { Middleware } from 'koa';
import type { Deps } from '../deps.js';

/** GET /metrics: Prometheus text exposition of this process. */
export function metricsEndpoint(deps: Deps): Middleware {
  return async (ctx) => {
    ctx.set('Cache-Control', 'no-store');
    ctx.type = deps.metrics.registry.contentType;
    ctx.body = await deps.metrics.registry.metrics();
  };
}
