import cors from '@koa/cors';
import Router from '@koa/router';
import Koa from 'koa';
import helmet from 'koa-helmet';
import { consoleEndpoints } from './console/endpoints.js';
import type { Deps } from './deps.js';
import { listAudit } from './endpoints/admin/audit.js';
import { getClient, listClients, registerClient, removeClient, updateClient } from './endpoints/admin/clients.js';
import { listKeys, rotateKeysNow } from './endpoints/admin/keys.js';
import { createRevocation, listGrants } from './endpoints/admin/revocations.js';
import { getUser, listUsers, registerUser, removeUser, updateUser } from './endpoints/admin/users.js';
import { livenessEndpoint, readinessEndpoint } from './endpoints/health.js';
import { introspectEndpoint } from './endpoints/introspect.js';
import { jwksEndpoint } from './endpoints/jwks.js';
import { metadataEndpoint } from './endpoints/metadata.js';
import { metricsEndpoint } from './endpoints/metrics.js';
import { revokeEndpoint } from './endpoints/revoke.js';
import { tokenEndpoint } from './endpoints/token.js';
import { allowedMethods } from './http/allowed-methods.js';
import { bearerAuth } from './http/bearer-auth.js';
import { clientAuth } from './http/client-auth.js';
import { errorHandler } from './http/error-handler.js';
import { formBody } from './http/form-body.js';
import { jsonBody } from './http/json-body.js';
import { noStore } from './http/no-store.js';
import { tokenRateLimit } from './http/rate-limit.js';
import { requestLog } from './http/request-log.js';
import { apiReferenceAsset, apiReferencePage, openApiEndpoint } from './openapi/endpoints.js';

/** The Koa app and the whole route table. */
export function createApp(deps: Deps): Koa {
  // Behind a proxy, trust only the address the nearest proxy appended (the right-most one):
  // earlier X-Forwarded-For entries are whatever the client chose to send.
  const app = new Koa({ proxy: deps.config.trustProxy, maxIpsCount: 1 });
  app.silent = true;
  const router = new Router();
  const anyClient = clientAuth(deps, { allowPublic: true });
  const confidentialClient = clientAuth(deps, { allowPublic: false });

  // Discovery
  router.get('/.well-known/oauth-authorization-server', metadataEndpoint(deps));
  router.get('/.well-known/jwks.json', jwksEndpoint(deps));

  // OAuth endpoints: form bodies, client authentication
  router.post('/token', noStore, tokenRateLimit(deps.throttle), formBody, anyClient, tokenEndpoint(deps));
  router.post('/introspect', noStore, formBody, confidentialClient, introspectEndpoint(deps));
  router.post('/revoke', noStore, formBody, anyClient, revokeEndpoint(deps));

  // Admin API: JSON, bearer tokens carrying an admin scope
  const admin = (scope: string) => [noStore, bearerAuth(deps, scope), jsonBody] as const;
  router.post('/admin/revocations', ...admin('admin:tokens'), createRevocation(deps));
  router.get('/admin/grants', ...admin('admin:tokens'), listGrants(deps));
  router.get('/admin/audit', ...admin('admin:tokens'), listAudit(deps));
  router.get('/admin/keys', ...admin('admin:keys'), listKeys(deps));
  router.post('/admin/keys/rotate', ...admin('admin:keys'), rotateKeysNow(deps));
  router.get('/admin/clients', ...admin('admin:clients'), listClients(deps));
  router.post('/admin/clients', ...admin('admin:clients'), registerClient(deps));
  router.get('/admin/clients/:id', ...admin('admin:clients'), getClient(deps));
  router.patch('/admin/clients/:id', ...admin('admin:clients'), updateClient(deps));
  router.delete('/admin/clients/:id', ...admin('admin:clients'), removeClient(deps));
  router.get('/admin/users', ...admin('admin:users'), listUsers(deps));
  router.post('/admin/users', ...admin('admin:users'), registerUser(deps));
  router.get('/admin/users/:id', ...admin('admin:users'), getUser(deps));
  router.patch('/admin/users/:id', ...admin('admin:users'), updateUser(deps));
  router.delete('/admin/users/:id', ...admin('admin:users'), removeUser(deps));

  // Operations
  router.get('/healthz', livenessEndpoint);
  router.get('/readyz', readinessEndpoint(deps));
  router.get('/metrics', metricsEndpoint(deps));
  router.get('/openapi.json', openApiEndpoint(deps));
  router.get('/docs', apiReferencePage);
  router.get('/docs/:asset', apiReferenceAsset);

  // Admin console (src/console/): a page for people, a client of the admin API (CONSOLE_ENABLED)
  if (deps.config.consoleEnabled) {
    const adminConsole = consoleEndpoints();
    router.get('/console', adminConsole.page);
    router.get('/console/:asset', adminConsole.asset);
  }

  app.use(requestLog(deps.logger, deps.metrics));
  app.use(errorHandler(deps.logger));
  app.use(helmet());
  // CORS only for the origins CORS_ORIGINS lists, and only on what a browser app calls: the OAuth
  // endpoints and discovery. Without CORS_ORIGINS no CORS headers are sent at all.
  const origins = new Set(deps.config.corsOrigins);
  if (origins.size > 0) {
    const allowCors = cors({ origin: (ctx) => (origins.has(ctx.get('Origin')) ? ctx.get('Origin') : ''), allowMethods: ['GET', 'POST'] });
    const browserFacing = /^\/(token|introspect|revoke|\.well-known\/[a-z-]+(\.json)?)$/;
    app.use((ctx, next) => (browserFacing.test(ctx.path) ? allowCors(ctx, next) : next()));
  }
  app.use(router.routes());
  app.use(allowedMethods(router));
  return app;
}
