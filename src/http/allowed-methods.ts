import type Router from '@koa/router';
import type { Middleware } from 'koa';
import { MethodNotAllowed } from '../errors.js';

/** Methods some route of the table answers. Any other method is refused on every path. */
const ROUTED_METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);

/** The methods some route of `router` answers at `path`, in the router's order (HEAD with GET). */
export function methodsAt(router: Router, path: string): string[] {
  return [...new Set(router.match(path, 'GET').path.flatMap((layer) => layer.methods))];
}

/**
 * Last, for requests no route took (RFC 9110 §15.5.6): a path that exists under other methods, or
 * a method no route uses (TRACE, PROPFIND, SEARCH, …) on any path, is 405 with `Allow` listing the
 * path's methods (empty for an unknown path); OPTIONS on an existing path answers just `Allow`. A
 * routed method on an unknown path falls through to the error handler's 404.
 */
export function allowedMethods(router: Router): Middleware {
  return async (ctx) => {
    const allowed = methodsAt(router, ctx.path);
    if (allowed.length === 0 && ROUTED_METHODS.has(ctx.method)) return;
    if (ctx.method === 'OPTIONS') {
      ctx.status = 204;
      ctx.set('Allow', allowed.join(', '));
      return;
    }
    throw new MethodNotAllowed(ctx.method, allowed);
  };
}
