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

/** The request id of a request: its X-Request-Id when it is sane, else a new one. */
export function requestIdOf(incoming: string | undefined): string {
  return incoming !== undefined && REQUEST_ID.test(incoming) ? incoming : randomUUID();
}

/** What the log line and the histogram of one answered request say. */
export interface AnsweredRequest {
  requestId: string;
  method: string;
  /** The route template, or 'unmatched'. */
  route: string;
  path: string;
  status: number;
  /** process.hrtime.bigint() when the request came in. */
  started: bigint;
  clientId?: string | undefined;
  /** Called only when the line is written (ctx.ip parses X-Forwarded-For). */
  ip: () => string;
}

/** One histogram sample and, at level info, one JSON log line for an answered request. */
export function recordRequest(logger: Logger, metrics: Metrics, request: AnsweredRequest): void {
  const seconds = Number(process.hrtime.bigint() - request.started) / 1e9;
  metrics.httpRequestDuration.observe({ method: request.method, route: request.route, status: String(request.status) }, seconds);
  if (logger.isLevelEnabled('info')) {
    logger.info(
      {
        requestId: request.requestId,
        method: request.method,
        route: request.route,
        path: request.path.slice(0, 256),
        status: request.status,
        durationMs: Math.round(seconds * 100_000) / 100,
        clientId: request.clientId,
        ip: request.ip(),
      },
      'request',
    );
  }
}

/**
 * Outermost: one JSON log line and one histogram sample per request. The request id comes from
 * X-Request-Id when it is sane, else a new one, and is echoed back. Only the path is logged (no
 * query, headers or body), so credentials cannot leak through here.
 */
export function requestLog(logger: Logger, metrics: Metrics): Middleware {
  return async (ctx, next) => {
    const started = process.hrtime.bigint();
    const requestId = requestIdOf(ctx.get('X-Request-Id'));
    ctx.state.requestId = requestId;
    ctx.set('X-Request-Id', requestId);
    try {
      await next();
    } finally {
      recordRequest(logger, metrics, {
        requestId,
        method: ctx.method,
        route: (ctx as unknown as { _matchedRoute?: string })._matchedRoute ?? 'unmatched',
        path: ctx.path,
        status: ctx.status,
        started,
        clientId: ctx.state.client?.id ?? ctx.state.admin?.clientId,
        ip: () => ctx.ip,
      });
    }
  };
}
