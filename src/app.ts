import Router from '@koa/router';
import Koa from 'koa';
import type { Deps } from './deps.js';
import { livenessEndpoint, readinessEndpoint } from './endpoints/health.js';
import { jwksEndpoint } from './endpoints/jwks.js';
import { metadataEndpoint } from './endpoints/metadata.js';
import { tokenEndpoint } from './endpoints/token.js';
import { clientAuth } from './http/client-auth.js';
import { errorHandler } from './http/error-handler.js';
import { formBody } from './http/form-body.js';
import { noStore } from './http/no-store.js';

/** The Koa app and the whole route table. */
export function createApp(deps: Deps): Koa {
  const app = new Koa({ proxy: deps.config.trustProxy });
  app.silent = true;
  const router = new Router();

  router.get('/.well-known/oauth-authorization-server', metadataEndpoint(deps));
  router.get('/.well-known/jwks.json', jwksEndpoint(deps));
  router.post('/token', noStore, formBody, clientAuth(deps.db, { allowPublic: true }), tokenEndpoint(deps));
  router.get('/healthz', livenessEndpoint);
  router.get('/readyz', readinessEndpoint(deps));

  app.use(errorHandler(deps.logger));
  app.use(router.routes());
  app.use(router.allowedMethods({ throw: true }));
  return app;
}
