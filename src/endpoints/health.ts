import type { Middleware } from 'koa';
import type { Deps } from '../deps.js';
import { checkReadiness } from '../services/health.js';

/** GET /healthz: the process answers. */
export const livenessEndpoint: Middleware = async (ctx) => {
  ctx.set('Cache-Control', 'no-store');
  ctx.body = { status: 'ok' };
};

/** GET /readyz: the database answers, migrations are current, a signing key is loaded. */
export function readinessEndpoint(deps: Deps): Middleware {
  return async (ctx) => {
    ctx.set('Cache-Control', 'no-store');
    const { ready, checks } = await checkReadiness(deps);
    if (!ready) ctx.set('Retry-After', '5');
    ctx.status = ready ? 200 : 503;
    ctx.body = { status: ready ? 'ready' : 'unavailable', checks };
  };
}
