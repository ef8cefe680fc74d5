import type { Middleware } from 'koa';
import type { Logger } from 'pino';
import { OAuthError, TemporarilyUnavailable } from '../errors.js';
import { isTemporaryStorageFailure } from '../services/health.js';

/**
 * Outermost middleware: every failure becomes an RFC 6749 §5.2-shaped JSON body. OAuth errors
 * show their description; anything else is logged with its stack and answered 500 server_error.
 */
export function errorHandler(logger: Logger): Middleware {
  return async (ctx, next) => {
    try {
      await next();
      if (ctx.status === 404 && ctx.body === undefined) {
        ctx.status = 404;
        ctx.body = { error: 'not_found', error_description: `no route for ${ctx.method} ${ctx.path}` };
      }
    } catch (caught) {
      let error: OAuthError;
      if (caught instanceof OAuthError) {
        error = caught;
        if (caught.cause) logger.debug({ err: caught.cause, error: caught.error }, 'request refused');
      } else if (isTemporaryStorageFailure(caught)) {
        logger.warn({ err: caught }, 'database unavailable');
        error = new TemporarilyUnavailable();
      } else {
        const status = (caught as { status?: number; expose?: boolean })?.status;
        if (typeof status === 'number' && status >= 400 && status < 500) {
          // Koa errors (malformed URLs and the like): safe, client-caused.
          error = new OAuthError(status, status === 405 ? 'method_not_allowed' : 'invalid_request', (caught as Error).message || 'bad request');
        } else {
          logger.error({ err: caught, method: ctx.method, path: ctx.path }, 'unhandled error');
          error = new OAuthError(500, 'server_error', 'the server could not complete the request');
        }
      }
      ctx.status = error.status;
      ctx.set(error.headers);
      ctx.set('Cache-Control', 'no-store');
      ctx.body = error.toJSON();
    }
  };
}
