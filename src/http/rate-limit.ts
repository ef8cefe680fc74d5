import type { Middleware } from 'koa';
import type { Throttle } from '../services/throttle.js';

/** RATE_LIMIT_PER_IP: requests per minute per client IP (X-Forwarded-For only with TRUST_PROXY). */
export function tokenRateLimit(throttle: Throttle): Middleware {
  return async (ctx, next) => {
    await throttle.consumeTokenRequest(ctx.ip);
    await next();
  };
}
