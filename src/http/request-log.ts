import { randomUUID } from 'node:crypto';
import type { Middleware } from 'koa';
import type { Logger } from 'pino';
import type { Metrics } from '../services/metrics.js';

declare module 'koa' {
  interface DefaultState {
    requestId?: string;
  }
}

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/**
 * Outermost: one JSON log line and one histogram sample per request. The request id comes from
 * X-Request-Id when it is sane, else a new one, and is echoed back. Only the path is logged (no
 * query, headers or body), so credentials cannot leak through here.
 */
export function requestLog(logger: Logger, metrics: Metrics): Middleware {
  return async (ctx, next) => {
    const started = process.hrtime.bigint();
    const incoming = ctx.get('X-Request-Id');
    const requestId = REQUEST_ID.test(incoming) ? incoming : randomUUID();
    ctx.state.requestId = requestId;
    ctx.set('X-Request-Id', requestId);
    try {
      await next();
    } finally {
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      const route = (ctx as unknown as { _matchedRoute?: string })._matchedRoute ?? 'unmatched';
      metrics.httpRequestDuration.observe({ method: ctx.method, route, status: String(ctx.status) }, seconds);
      // The log object (ctx.ip parses X-Forwarded-For) is built only when the line is written.
      if (logger.isLevelEnabled('info')) {
        logger.info(
          {
            requestId,
            method: ctx.method,
            route,
            path: ctx.path.slice(0, 256),
            status: ctx.status,
            durationMs: Math.round(seconds * 100_000) / 100,
            clientId: ctx.state.client?.id ?? ctx.state.admin?.clientId,
            ip: ctx.ip,
          },
          'request',
        );
      }
    }
  };
}
