/**
 * A resource server in Koa that accepts Gatehouse access tokens, verified offline with jose
 * against the published JWKS (RFC 9068: RS256, typ at+jwt, issuer, audience), and DPoP-bound ones
 * (RFC 9449 §7: `Authorization: DPoP <token>` plus a `DPoP` proof by the key in the token's cnf.jkt).
 *
 *   ISSUER=http://localhost:3000 AUDIENCE=http://localhost:3000 PORT=4000 npx tsx examples/koa-resource-server.ts
 *
 * GET /documents needs the scope `read`, POST /documents the scope `write`.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pathToFileURL } from 'node:url';
import Router from '@koa/router';
import { createHash } from 'node:crypto';
import { calculateJwkThumbprint, createRemoteJWKSet, EmbeddedJWK, errors, jwtVerify, type JWK, type JWTPayload } from 'jose';
import Koa, { type Middleware } from 'koa';

export interface ResourceServerOptions {
  /** Gatehouse's ISSUER, exactly. */
  issuer: string;
  /** The `aud` this API expects: the client's audience, or the issuer for clients without one. */
  audience: string;
}

interface AccessToken extends JWTPayload {
  sub: string;
  client_id: string;
  scope: string;
  username?: string;
  /** Present on a DPoP-bound token: the thumbprint of the key its proofs must be signed with. */
  cnf?: { jkt?: string };
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

/** RFC 6750 §3 (RFC 9449 §7.1 for DPoP): an error body plus the challenge of the scheme. */
function refuse(ctx: Koa.Context, status: 401 | 403, error: string | undefined, description: string, scope?: string, scheme = 'Bearer'): void {
  const parameters = ['realm="example-api"'];
  if (error) parameters.push(`error="${error}"`, `error_description="${description}"`);
  if (scope) parameters.push(`scope="${scope}"`);
  if (scheme === 'DPoP') parameters.push(`algs="${DPOP_ALGORITHMS.join(' ')}"`);
  ctx.set('WWW-Authenticate', `${scheme} ${parameters.join(', ')}`);
  ctx.status = status;
  ctx.body = { error: error ?? 'invalid_token', error_description: description };
}

/** Asymmetric algorithms a DPoP proof may use. */
const DPOP_ALGORITHMS = ['ES256', 'ES384', 'PS256', 'RS256', 'EdDSA'];
/** How old a proof may be; its jti is remembered that long. */
const DPOP_MAX_AGE_SECONDS = 60;

/** Why a DPoP proof was refused (answered 401 invalid_dpop_proof). */
class DpopProofError extends Error {}

/**
 * RFC 9449 §7 at a resource server, on jose: the proof is a JWT signed by the key in its own header
 * (typ dpop+jwt), recent, for this method and URL (`htu` without query), for this access token
 * (`ath`), by the key the token is bound to (`cnf.jkt`), and never seen before (`jti`; kept in
 * `seen` while the proof could be accepted — one process; share it, e.g. in Redis, across several).
 */
async function verifyDpopProof(ctx: Koa.Context, accessToken: string, jkt: string, seen: Map<string, number>): Promise<void> {
  const proofs = ctx.req.headersDistinct.dpop ?? [];
  if (proofs.length !== 1 || !proofs[0]) throw new DpopProofError('send exactly one DPoP proof');
  let payload: JWTPayload;
  let jwk: JWK | undefined;
  try {
    ({
      payload,
      protectedHeader: { jwk },
    } = await jwtVerify(proofs[0], EmbeddedJWK, {
      typ: 'dpop+jwt',
      algorithms: DPOP_ALGORITHMS,
      maxTokenAge: DPOP_MAX_AGE_SECONDS,
      requiredClaims: ['jti', 'htm', 'htu', 'iat', 'ath'],
    }));
  } catch (error) {
    if (error instanceof errors.JOSEError) throw new DpopProofError('the DPoP proof is invalid or too old');
    throw error;
  }
  const htu = typeof payload.htu === 'string' && URL.canParse(payload.htu) ? new URL(payload.htu) : undefined;
  if (payload.htm !== ctx.method) throw new DpopProofError('the DPoP proof is for another method');
  // Behind a proxy, use the URL clients call (set app.proxy so ctx.protocol and ctx.host follow X-Forwarded-*).
  if (!htu || `${htu.origin}${htu.pathname}` !== `${ctx.protocol}://${ctx.host}${ctx.path}`) throw new DpopProofError('the DPoP proof is for another URL');
  if (payload.ath !== createHash('sha256').update(accessToken).digest('base64url')) throw new DpopProofError('the DPoP proof is for another access token');
  if (!jwk || (await calculateJwkThumbprint(jwk)) !== jkt) throw new DpopProofError('the DPoP proof is signed by another key than the token is bound to');
  const now = Date.now();
  for (const [jti, until] of seen) if (until <= now) seen.delete(jti);
  if (seen.has(String(payload.jti))) throw new DpopProofError('the DPoP proof has been used before');
  seen.set(String(payload.jti), now + (DPOP_MAX_AGE_SECONDS + 5) * 1000);
}

/** Builds the app: every route under it needs a valid token; `requireScope` adds a scope check. */
export async function createKoaResourceServer(options: ResourceServerOptions): Promise<Koa> {
  // Caches the keys and fetches them again when a token names an unknown kid.
  const jwks = createRemoteJWKSet(await discoverJwksUri(options.issuer));

  const seenProofs = new Map<string, number>();

  const authenticate: Middleware = async (ctx, next) => {
    const match = /^(Bearer|DPoP) ([\x21-\x7E]+)$/i.exec(ctx.get('Authorization'));
    if (!match?.[1] || !match[2]) return refuse(ctx, 401, undefined, 'an access token is required');
    const scheme = match[1].toLowerCase() === 'dpop' ? 'DPoP' : 'Bearer';
    try {
      const { payload } = await jwtVerify<AccessToken>(match[2], jwks, {
        issuer: options.issuer,
        audience: options.audience,
        typ: 'at+jwt',
        algorithms: ['RS256'],
        requiredClaims: ['sub', 'client_id', 'scope', 'exp', 'iat', 'jti'],
      });
      // A bound token is worthless without its key: never accept it as a plain bearer token.
      const jkt = payload.cnf?.jkt;
      if (jkt === undefined && scheme === 'DPoP') return refuse(ctx, 401, 'invalid_token', 'this access token is not DPoP-bound: send it as Bearer');
      if (jkt !== undefined && scheme !== 'DPoP')
        return refuse(ctx, 401, 'invalid_token', 'this access token is DPoP-bound: send it as DPoP with a proof', undefined, 'DPoP');
      if (jkt !== undefined) await verifyDpopProof(ctx, match[2], jkt, seenProofs);
      ctx.state.token = payload;
    } catch (error) {
      if (error instanceof DpopProofError) return refuse(ctx, 401, 'invalid_dpop_proof', error.message, undefined, 'DPoP');
      if (error instanceof errors.JOSEError) return refuse(ctx, 401, 'invalid_token', 'the access token is invalid or expired', undefined, scheme);
      throw error;
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
