import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Middleware, ParameterizedContext } from 'koa';
import helmet from 'koa-helmet';

/**
 * helmet's default headers, worked out once: helmet's defaults depend on nothing in the request,
 * so its middleware runs against a recording response at start and every request then only copies
 * the recorded headers (no promise, no per-header sub-middleware on the hot path).
 */
export function securityHeaders(): Middleware {
  const headers: [string, string | number | readonly string[]][] = [];
  const recorder = {
    setHeader(name: string, value: string | number | readonly string[]) {
      headers.push([name, value]);
    },
    removeHeader() {},
  } as unknown as ServerResponse;
  // helmet sets its headers synchronously, before it calls next.
  void helmet()({ req: {} as IncomingMessage, res: recorder } as ParameterizedContext, () => Promise.resolve());
  if (headers.length === 0) throw new Error('helmet set no headers');
  return async (ctx, next) => {
    for (const [name, value] of headers) ctx.res.setHeader(name, value);
    await next();
  };
}
