import type { Middleware } from 'koa';

/** RFC 6749 §5.1: token answers and errors must not be cached. */
export const noStore: Middleware = async (ctx, next) => {
  ctx.set('Cache-Control', 'no-store');
  ctx.set('Pragma', 'no-cache');
  await next();
};
