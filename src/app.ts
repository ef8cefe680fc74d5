import type { IncomingMessage, ServerResponse } from 'node:http';
import cors from '@koa/cors';
import Router from '@koa/router';
import Koa, { type Middleware } from 'koa';
import type { Deps } from './deps.js';
import { allowedMethods, methodsAt } from './http/allowed-methods.js';
import { bearerAuth } from './http/bearer-auth.js';
import { clientAuth } from './http/client-auth.js';
import { documentsBeforeKoa } from './http/documents-before-koa.js';
import { documentEndpoint, type ServedDocument } from './http/etag.js';
import { errorHandler } from './http/error-handler.js';
import { formBody } from './http/form-body.js';
import { jsonBody } from './http/json-body.js';
import { noStore } from './http/no-store.js';
import { requestLog } from './http/request-log.js';
import { securityHeaders } from './http/security-headers.js';
import { ROUTES, servedRoutes, type Access, type Route } from './routes.js';

/** What each kind of access puts in front of a handler. */
function accessMiddleware(deps: Deps, access: Access): Middleware[] {
  switch (access.kind) {
    case 'anyone':
      return [];
    case 'client':
      // Form bodies and client authentication: the OAuth endpoints (RFC 6749 §2.3, §3.2).
      return [noStore, formBody, clientAuth(deps, { allowPublic: access.allowPublic, deferredReplayCheck: access.deferredReplayCheck ?? false })];
    case 'admin':
      // JSON bodies and bearer tokens carrying an admin scope (RFC 6750).
      return [noStore, bearerAuth(deps, access.scope), jsonBody];
  }
}

/** `/admin/clients/{id}` (OpenAPI) → `/admin/clients/:id` (router). */
function routerPath(path: string): string {
  return path.replace(/\{([A-Za-z_]+)\}/g, ':$1');
}

/**
 * The hot discovery GETs (JWKS, metadata, the status list aggregation, health) by exact path, one
 * map lookup instead of the router's pattern walk. Same routes, same handlers: anything else (other
 * methods, path parameters, a trailing slash, other letter case) goes on to the router as before.
 */
function fixedPathGets(handlers: ReadonlyMap<string, Middleware>): Middleware {
  return (ctx, next): Promise<void> => {
    if (ctx.method !== 'GET' && ctx.method !== 'HEAD') return next();
    const path = ctx.path;
    const handler = handlers.get(path);
    if (!handler) return next();
    // What @koa/router would have set: the route template (request log, metrics) and no params.
    const routed = ctx as typeof ctx & { _matchedRoute?: string; params?: Record<string, string> };
    routed._matchedRoute = path;
    routed.params = {};
    return handler(ctx, next) as Promise<void>;
  };
}

/**
 * An ISSUER with a path (https://example.com/auth): every URL Gatehouse hands out is that path plus
 * the route (…/auth/token), and RFC 8414 §3.1 puts the metadata of such an issuer at
 * /.well-known/oauth-authorization-server/auth. Both are served by the routes they name, and the
 * bare routes stay served too, for a proxy that strips the path before passing a request on.
 */
function underIssuerPath(issuer: string): Middleware | undefined {
  const prefix = new URL(issuer).pathname.replace(/\/+$/, '');
  if (prefix === '') return undefined;
  const metadata = '/.well-known/oauth-authorization-server';
  return (ctx, next) => {
    const path = ctx.path;
    if (path === `${metadata}${prefix}`) ctx.path = metadata;
    else if (path.startsWith(`${prefix}/`)) ctx.path = path.slice(prefix.length);
    return next();
  };
}

/** The Koa app, and what the route table allows at a path (for requests that never reach Koa). */
export type GatehouseApp = Koa & {
  /** Set when the server starts to drain (main.ts): every answer from then on carries `Connection: close`. */
  draining: boolean;
  /** The methods some route answers at `path` (HEAD with GET), as a 405's `Allow` lists them; empty for an unknown path. */
  allowedMethodsAt: (path: string) => string[];
};

/** The Koa app: the middleware every request passes, then the route table (src/routes.ts). */
export function createApp(deps: Deps, routes: readonly Route[] = ROUTES): GatehouseApp {
  // Behind a proxy, trust only the address the nearest proxy appended (the right-most one):
  // earlier X-Forwarded-For entries are whatever the client chose to send.
  const app = new Koa({ proxy: deps.config.trustProxy, maxIpsCount: 1 });
  app.silent = true;
  const router = new Router();
  const fixedGets = new Map<string, Middleware>();
  const documents = new Map<string, ServedDocument>();
  for (const route of servedRoutes(routes, deps.config)) {
    // One document object per route and server: the answer before Koa and Koa's handler share it.
    let document: ServedDocument | undefined;
    let handler: Middleware;
    if (route.document) {
      document = route.document(deps);
      handler = documentEndpoint(document);
    } else {
      handler = route.handler(deps);
    }
    const chain = [...(route.guard ? [route.guard(deps)] : []), ...accessMiddleware(deps, route.access), handler];
    router[route.method](routerPath(route.path), ...chain);
    if (route.method === 'get' && !route.path.includes('{') && chain.length === 1) {
      fixedGets.set(route.path, handler);
      if (document) documents.set(route.path, document);
    }
  }

  const gatehouse = Object.assign(app, { draining: false, allowedMethodsAt: (path: string) => methodsAt(router, path) });
  // While the server drains, answers (those already under way included) ask their clients to close
  // the connection, which the server is about to do (RFC 9112 §9.6).
  app.use(async (ctx, next) => {
    await next();
    if (gatehouse.draining) ctx.set('Connection', 'close');
  });
  const issuerPath = underIssuerPath(deps.config.issuer);
  if (issuerPath) app.use(issuerPath);
  app.use(requestLog(deps.logger, deps.metrics));
  app.use(errorHandler(deps.logger));
  app.use(securityHeaders());
  // CORS only for the origins CORS_ORIGINS lists, and only on what a browser app calls: the OAuth
  // endpoints and discovery. Without CORS_ORIGINS no CORS headers are sent at all.
  const origins = new Set(deps.config.corsOrigins);
  if (origins.size > 0) {
    const allowCors = cors({
      origin: (ctx) => (origins.has(ctx.get('Origin')) ? ctx.get('Origin') : ''),
      allowMethods: ['GET', 'POST'],
      // Request headers (DPoP proofs among them) are allowed as the preflight asks; a browser app
      // must be able to read the server nonce of RFC 9449 §8.
      exposeHeaders: ['DPoP-Nonce'],
    });
    // The status lists too: a resource server in a browser (a wallet, a page) reads them.
    const browserFacing = /^\/(token|introspect|revoke|statuslists(\/[^/]+)?|\.well-known\/[a-z-]+(\.json)?)$/;
    app.use(async (ctx, next) => {
      if (browserFacing.test(ctx.path)) await allowCors(ctx, next);
      else await next();
    });
  }
  app.use(fixedPathGets(fixedGets));
  app.use(router.routes());
  app.use(allowedMethods(router));

  // The request listener (app.listen, tests, the bench): documents first, then Koa.
  const answerDocument = documentsBeforeKoa({
    documents,
    logger: deps.logger,
    metrics: deps.metrics,
    trustProxy: deps.config.trustProxy,
    cors: origins.size > 0,
    draining: () => gatehouse.draining,
  });
  const koaCallback = app.callback.bind(app);
  gatehouse.callback = (): ReturnType<Koa['callback']> => {
    const handleInKoa = koaCallback();
    // node:http only (Gatehouse serves HTTP/1.1; Koa's type admits HTTP/2 too).
    return (request, response) => (answerDocument(request as IncomingMessage, response as ServerResponse) ? Promise.resolve() : handleInKoa(request, response));
  };
  return gatehouse;
}
