import type { Middleware } from 'koa';
import type { Deps } from '../deps.js';
import { migrationsAreCurrent } from '../store/migrate.js';

/** GET /healthz: the process answers. */
export const livenessEndpoint: Middleware = async (ctx) => {
  ctx.set('Cache-Control', 'no-store');
  ctx.body = { status: 'ok' };
};

/** GET /readyz: the database answers, migrations are current, a signing key is loaded. */
export function readinessEndpoint(deps: Deps): Middleware {
  return async (ctx) => {
    ctx.set('Cache-Control', 'no-store');
    const checks: Record<string, 'ok' | 'failing'> = { database: 'ok', migrations: 'ok', signing_key: 'ok' };
    try {
      await deps.db.raw('SELECT 1');
      if (!(await migrationsAreCurrent(deps.db))) checks.migrations = 'failing';
    } catch {
      checks.database = 'failing';
      checks.migrations = 'failing';
    }
    try {
      deps.keys.signingKey();
    } catch {
      checks.signing_key = 'failing';
    }
    const ready = Object.values(checks).every((c) => c === 'ok');
    if (!ready) ctx.set('Retry-After', '5');
    ctx.status = ready ? 200 : 503;
    ctx.body = { status: ready ? 'ready' : 'unavailable', checks };
  };
}
