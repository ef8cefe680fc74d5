/**
 * A resource server in Koa that accepts Gatehouse access tokens, verified offline with jose
 * against the published JWKS (RFC 9068: RS256, typ at+jwt, issuer, audience), and that follows
 * Gatehouse's Token Status List (examples/status-list.ts): a revoked token is refused within
 * STATUS_LIST_TTL, with no call to /introspect.
 *
 *   ISSUER=http://localhost:3000 AUDIENCE=http://localhost:3000 PORT=4000 npx tsx examples/koa-resource-server.ts
 *
 * GET /documents needs the scope `read`, POST /documents the scope `write`.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pathToFileURL } from 'node:url';
import Router from '@koa/router';
import { createRemoteJWKSet, errors, jwtVerify, type JWTPayload } from 'jose';
import Koa, { type Middleware } from 'koa';
import { createStatusListChecker, type StatusClaim } from './status-list.js';

export interface ResourceServerOptions {
  /** Gatehouse's ISSUER, exactly. */
  issuer: string;
  /** The `aud` this API expects: the client's audience, or the issuer for clients without one. */
  audience: string;
}

interface AccessToken extends JWTPayload, StatusClaim {
  sub: string;
  client_id: string;
  scope: string;
  username?: string;
}

declare module 'koa' {
  interface DefaultState {
    token?: AccessToken;
  }
}

/** RFC 8414: where the keys are, from the metadata, whose issuer must be the one we trust. */
export async function discoverJwksUri(issuer: string): Promise<URL> {
  const response = await fetch(`${issuer}/.well-known/oauth-authorization-server`);
  if (!response.ok) throw new Error(`metadata of ${issuer}: HTTP ${response.status}`);
  const metadata = (await response.json()) as { issuer?: string; jwks_uri?: string };
  if (metadata.issuer !== issuer) throw new Error(`metadata issuer ${metadata.issuer} is not ${issuer}`);
  if (!metadata.jwks_uri) throw new Error('the metadata has no jwks_uri');
  return new URL(metadata.jwks_uri);
}

/** RFC 6750 §3: an error body plus the Bearer challenge. */
function refuse(ctx: Koa.Context, status: 401 | 403, error: string | undefined, description: string, scope?: string): void {
  const parameters = ['realm="example-api"'];
  if (error) parameters.push(`error="${error}"`, `error_description="${description}"`);
  if (scope) parameters.push(`scope="${scope}"`);
  ctx.set('WWW-Authenticate', `Bearer ${parameters.join(', ')}`);
  ctx.status = status;
  ctx.body = { error: error ?? 'invalid_token', error_description: description };
}

/** Builds the app: every route under it needs a valid token; `requireScope` adds a scope check. */
export async function createKoaResourceServer(options: ResourceServerOptions): Promise<Koa> {
  // Caches the keys and fetches them again when a token names an unknown kid.
  const jwks = createRemoteJWKSet(await discoverJwksUri(options.issuer));
  const statusLists = createStatusListChecker({ issuer: options.issuer, jwks });

  const authenticate: Middleware = async (ctx, next) => {
    const match = /^Bearer ([\x21-\x7E]+)$/i.exec(ctx.get('Authorization'));
    if (!match?.[1]) return refuse(ctx, 401, undefined, 'an access token is required');
    try {
      const { payload } = await jwtVerify<AccessToken>(match[1], jwks, {
        issuer: options.issuer,
        audience: options.audience,
        typ: 'at+jwt',
        algorithms: ['RS256'],
        requiredClaims: ['sub', 'client_id', 'scope', 'exp', 'iat', 'jti'],
      });
      ctx.state.token = payload;
    } catch (error) {
      if (error instanceof errors.JOSEError) return refuse(ctx, 401, 'invalid_token', 'the access token is invalid or expired');
      throw error;
    }
    const status = await statusLists.check(ctx.state.token);
    if (status === 'revoked') return refuse(ctx, 401, 'invalid_token', 'the access token has been revoked');
    if (status === 'unknown') {
      // Fail closed: without a current status list, a revoked token cannot be told apart.
      ctx.set('Retry-After', '5');
      ctx.status = 503;
      ctx.body = { error: 'temporarily_unavailable', error_description: 'the token status list cannot be fetched' };
      return;
    }
    await next();
  };

  const requireScope =
    (scope: string): Middleware =>
    async (ctx, next) => {
      const granted = (ctx.state.token?.scope ?? '').split(' ');
      if (!granted.includes(scope)) return refuse(ctx, 403, 'insufficient_scope', `this needs the scope ${scope}`, scope);
      await next();
    };

  const router = new Router();
  router.get('/documents', requireScope('read'), (ctx) => {
    const token = ctx.state.token as AccessToken;
    ctx.body = { sub: token.sub, username: token.username ?? null, scope: token.scope, documents: [] };
  });
  router.post('/documents', requireScope('write'), (ctx) => {
    ctx.status = 201;
    ctx.body = { created: true };
  });

  const app = new Koa();
  app.use(authenticate);
  app.use(router.routes());
  app.use(router.allowedMethods());
  return app;
}

/** Starts it on `port` (0 = any free port); resolves with its URL and a close function. */
export async function startKoaResourceServer(
  options: ResourceServerOptions & { port?: number; host?: string },
): Promise<{ url: string; close(): Promise<void> }> {
  const app = await createKoaResourceServer(options);
  const server: Server = createServer(app.callback());
  const host = options.host ?? '127.0.0.1';
  await new Promise<void>((resolve) => server.listen(options.port ?? 0, host, resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${host}:${port}`,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const issuer = process.env.ISSUER ?? 'http://localhost:3000';
  const { url } = await startKoaResourceServer({ issuer, audience: process.env.AUDIENCE ?? issuer, port: Number(process.env.PORT ?? 4000) });
  console.log(`Koa resource server on ${url}: GET /documents needs scope read, POST /documents needs write`);
}
