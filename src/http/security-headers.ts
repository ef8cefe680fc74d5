import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Context, Middleware, ParameterizedContext } from 'koa';
import helmet from 'koa-helmet';

type Header = readonly [name: string, value: string | number | readonly string[]];

/**
 * Every answer's headers: the set OWASP's REST Security Cheat Sheet gives for API answers (besides
 * Content-Type and Cache-Control, which each endpoint sets). Nearly every answer is JSON read by
 * programs, so helmet's page-only headers (COOP, Origin-Agent-Cluster, X-DNS-Prefetch-Control,
 * X-XSS-Protection, …) protect nothing there; they cost a sixth of a JWKS answer's CPU and 700 bytes
 * on every answer. The pages (the console, the API reference) get them too: setPageHeaders.
 */
export const API_SECURITY_HEADERS: readonly Header[] = Object.freeze([
  // Nothing an API answer holds may load anything or be framed, even if a browser renders it.
  ['Content-Security-Policy', "default-src 'none'; frame-ancestors 'none'"],
  ['Strict-Transport-Security', 'max-age=31536000; includeSubDomains'],
  ['X-Content-Type-Options', 'nosniff'],
  ['X-Frame-Options', 'DENY'],
  ['Referrer-Policy', 'no-referrer'],
]);

/** helmet's default headers, worked out once (they depend on nothing in the request). */
function helmetDefaults(): readonly Header[] {
  const headers: Header[] = [];
  const recorder = {
    setHeader(name: string, value: string | number | readonly string[]) {
      headers.push([name, value]);
    },
    removeHeader() {},
  } as unknown as ServerResponse;
  // helmet sets its headers synchronously, before it calls next.
  void helmet()({ req: {} as IncomingMessage, res: recorder } as ParameterizedContext, () => Promise.resolve());
  if (headers.length === 0) throw new Error('helmet set no headers');
  return headers;
}

const PAGE_SECURITY_HEADERS = helmetDefaults();

/** Sets API_SECURITY_HEADERS on every answer, before anything else runs (errors included). */
export function securityHeaders(): Middleware {
  return async (ctx, next) => {
    for (const [name, value] of API_SECURITY_HEADERS) ctx.res.setHeader(name, value);
    await next();
  };
}

/** For an HTML page or its files: all of helmet's default headers, with the page's own Content-Security-Policy. */
export function setPageHeaders(ctx: Context, contentSecurityPolicy: string): void {
  for (const [name, value] of PAGE_SECURITY_HEADERS) ctx.res.setHeader(name, value);
  ctx.set('Content-Security-Policy', contentSecurityPolicy);
}
