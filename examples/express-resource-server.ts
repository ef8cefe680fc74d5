/**
 * A resource server in Express with Auth0's express-oauth2-jwt-bearer, used as it comes.
 *
 *   ISSUER=http://localhost:3000 AUDIENCE=http://localhost:3000 PORT=4001 npx tsx examples/express-resource-server.ts
 *
 * It listens on 127.0.0.1 only. Every error is JSON: a missing or bad token is 401 with
 * `WWW-Authenticate: Bearer`, a missing scope 403 `insufficient_scope`, anything else 500
 * `server_error` (never Express's HTML page with a stack trace).
 *
 * The middleware discovers Gatehouse from `issuerBaseURL`: it tries
 * /.well-known/openid-configuration (Gatehouse answers 404), then the RFC 8414
 * /.well-known/oauth-authorization-server, and takes `issuer` and `jwks_uri` from it. It then checks
 * the signature, `alg` (RS256), `iss`, `aud` and `exp`; `strict: true` adds the RFC 9068 checks
 * (typ at+jwt, and iat, sub, client_id, jti present). DPoP-bound tokens need a proof (see below).
 * Then it follows Gatehouse's Token Status List (examples/status-list.ts): a revoked token is refused
 * within STATUS_LIST_TTL, without /introspect.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pathToFileURL } from 'node:url';
import express, { type ErrorRequestHandler, type Express, type RequestHandler } from 'express';
import { auth, InvalidTokenError, requiredScopes, UnauthorizedError } from 'express-oauth2-jwt-bearer';
import { createStatusListChecker, type StatusClaim } from './status-list.js';

export interface ResourceServerOptions {
  /** Gatehouse's ISSUER, exactly. */
  issuer: string;
  /** The `aud` this API expects: the client's audience, or the issuer for clients without one. */
  audience: string;
}

/** Answers the middleware's errors as RFC 6750 does: status, WWW-Authenticate, a JSON body. */
const oauthErrors: ErrorRequestHandler = (error, _request, response, next) => {
  if (!(error instanceof UnauthorizedError)) return next(error);
  for (const [name, value] of Object.entries(error.headers)) response.set(name, value);
  // A token error carries its RFC 6750 code; a request without any token carries none.
  const code = ('code' in error && typeof error.code === 'string' && error.code) || (error.status === 400 ? 'invalid_request' : 'invalid_token');
  // The library answers a DPoP proof that fails a check with 400; RFC 9449 §7.1 gives it 401.
  const status = code === 'invalid_dpop_proof' ? 401 : error.status;
  response.status(status).json({ error: code, error_description: error.message || 'an access token is required' });
};

/**
 * Anything else (Gatehouse unreachable, a bug): JSON, never Express's default HTML page with a
 * stack trace. The details go to the log, not to the caller.
 */
const lastResort: ErrorRequestHandler = (error, _request, response, _next) => {
  console.error(error);
  if (response.headersSent) return;
  response.status(500).json({ error: 'server_error', error_description: 'the request could not be served' });
};

export function createExpressResourceServer(options: ResourceServerOptions): Express {
  const app = express();
  // dpop.enabled (the default since 1.7, said here because it matters): a DPoP-bound token (cnf.jkt)
  // is accepted only as `Authorization: DPoP` with a proof by its key for this request (RFC 9449 §7),
  // never as Bearer; tokens without cnf still work as Bearer. A proof may be a minute old (and 5 s
  // ahead), as Gatehouse's /token allows: the library's default is five minutes.
  app.use(
    auth({
      issuerBaseURL: options.issuer,
      audience: options.audience,
      tokenSigningAlg: 'RS256',
      strict: true,
      dpop: { enabled: true, iatOffset: 60, iatLeeway: 5 },
    }),
  );
  const statusLists = createStatusListChecker({ issuer: options.issuer });
  const notRevoked: RequestHandler = (request, response, next) => {
    statusLists.check((request.auth?.payload ?? {}) as StatusClaim).then((status) => {
      if (status === 'valid') return next();
      if (status === 'revoked') return next(new InvalidTokenError('the access token has been revoked'));
      // Fail closed: without a current status list, a revoked token cannot be told apart.
      response.set('Retry-After', '5').status(503).json({ error: 'temporarily_unavailable', error_description: 'the token status list cannot be fetched' });
    }, next);
  };
  app.use(notRevoked);

  app.get('/documents', requiredScopes('read'), (request, response) => {
    const payload = request.auth?.payload;
    response.json({ sub: payload?.sub, username: payload?.username ?? null, scope: payload?.scope, documents: [] });
  });
  app.post('/documents', requiredScopes('write'), (_request, response) => {
    response.status(201).json({ created: true });
  });

  // Unknown paths: JSON too (Express's default 404 is an HTML page).
  app.use((_request: express.Request, response: express.Response) => {
    response.status(404).json({ error: 'not_found', error_description: 'no such resource' });
  });
  app.use(oauthErrors);
  app.use(lastResort);
  return app;
}

/** Starts it on `port` (0 = any free port); resolves with its URL and a close function. */
export async function startExpressResourceServer(
  options: ResourceServerOptions & { port?: number; host?: string },
): Promise<{ url: string; close(): Promise<void> }> {
  const server: Server = createServer(createExpressResourceServer(options));
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
  const { url } = await startExpressResourceServer({ issuer, audience: process.env.AUDIENCE ?? issuer, port: Number(process.env.PORT ?? 4001) });
  console.log(`Express resource server on ${url}: GET /documents needs scope read, POST /documents needs write`);
}
