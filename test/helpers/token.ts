import { createRemoteJWKSet, jwtVerify, type JWTPayload, type JWTHeaderParameters } from 'jose';
import type { Response } from 'supertest';
import { basicAuth, type TestServer } from './server.js';

/** How a test client authenticates at /token. */
export type TestClientAuth =
  | { basic: [clientId: string, secret: string] }
  | { post: [clientId: string, secret: string] }
  | { none: string }
  /** An Authorization header exactly as given (a hand-made Basic, a Bearer …). */
  | { authorization: string }
  | undefined;

/**
 * A POST /token as bytes on the wire: its headers (Content-Type, Authorization and `headers`) and
 * its form-urlencoded body, for any HTTP client (supertest, fetch, node:http).
 */
export function tokenRequest(
  form: Record<string, string>,
  auth?: TestClientAuth,
  headers: Record<string, string> = {},
): { headers: Record<string, string>; body: string } {
  const body = new URLSearchParams(form);
  const all: Record<string, string> = { 'Content-Type': 'application/x-www-form-urlencoded', ...headers };
  if (auth && 'basic' in auth) all.Authorization = basicAuth(...auth.basic);
  if (auth && 'authorization' in auth) all.Authorization = auth.authorization;
  if (auth && 'post' in auth) {
    body.set('client_id', auth.post[0]);
    body.set('client_secret', auth.post[1]);
  }
  if (auth && 'none' in auth) body.set('client_id', auth.none);
  return { headers: all, body: body.toString() };
}

/** POST /token to the app in-process (supertest), authenticating as `auth` says. */
export function postToken(server: TestServer, form: Record<string, string>, auth?: TestClientAuth, headers?: Record<string, string>): Promise<Response> {
  const request = tokenRequest(form, auth, headers);
  return server.http.post('/token').set(request.headers).send(request.body);
}

/** What a client sees of a /token answer over the network. */
export interface TokenAnswer {
  status: number;
  headers: Headers;
  /** The JSON body (a token response or an RFC 6749 §5.2 error). */
  body: Record<string, unknown>;
}

/**
 * POST /token over a real socket (fetch) to a listening server at `baseUrl`: a server process, or a
 * TestServer's baseUrl when requests must really run concurrently or through Node's HTTP parser.
 */
export async function postTokenTo(
  baseUrl: string,
  form: Record<string, string>,
  auth?: TestClientAuth,
  headers?: Record<string, string>,
): Promise<TokenAnswer> {
  const request = tokenRequest(form, auth, headers);
  const response = await fetch(`${baseUrl}/token`, { method: 'POST', headers: request.headers, body: request.body });
  return { status: response.status, headers: response.headers, body: (await response.json()) as Record<string, unknown> };
}

/** Verifies an access token the way a resource server does: against the published JWKS, over HTTP. */
export async function verifyAccessToken(
  server: TestServer,
  token: string,
  audience: string = server.baseUrl,
): Promise<{ payload: JWTPayload & Record<string, unknown>; protectedHeader: JWTHeaderParameters }> {
  const jwks = createRemoteJWKSet(new URL(`${server.baseUrl}/.well-known/jwks.json`));
  return jwtVerify(token, jwks, { issuer: server.baseUrl, audience, typ: 'at+jwt', algorithms: ['RS256'] });
}

/** Asserts an RFC 6749 §5.2 error answer and returns its body. */
export function expectOAuthError(response: Response, status: number, error: string): { error: string; error_description: string } {
  expect({ status: response.status, error: response.body?.error }).toEqual({ status, error });
  expect(typeof response.body.error_description).toBe('string');
  expect(response.headers['cache-control']).toBe('no-store');
  return response.body;
}

export interface TokenBody {
  access_token: string;
  refresh_token?: string;
  scope: string;
  expires_in: number;
  token_type: string;
}

export type TestClient = { clientId: string; clientSecret: string | null };

/** Basic for a confidential client, client_id alone for a public one. */
export function authOf(client: TestClient): TestClientAuth {
  return client.clientSecret ? { basic: [client.clientId, client.clientSecret] } : { none: client.clientId };
}

/** A password grant that must succeed. */
export async function passwordTokens(server: TestServer, client: TestClient, user: { username: string; password: string }, scope?: string): Promise<TokenBody> {
  const form: Record<string, string> = { grant_type: 'password', username: user.username, password: user.password };
  if (scope) form.scope = scope;
  const response = await postToken(server, form, authOf(client));
  if (response.status !== 200) throw new Error(`password grant failed: ${response.status} ${response.text}`);
  return response.body as TokenBody;
}

export function refresh(server: TestServer, client: TestClient, refreshToken: string): Promise<Response> {
  return postToken(server, { grant_type: 'refresh_token', refresh_token: refreshToken }, authOf(client));
}

/** A confidential client that may introspect, and a function that asks /introspect about a token. */
export async function introspector(server: TestServer, id = 'resource-server') {
  const client = await server.createClient({ id, grantTypes: ['client_credentials'], scopes: ['introspect'] });
  return (token: string, hint?: string) =>
    server.http
      .post('/introspect')
      .set('Authorization', basicAuth(client.clientId, client.clientSecret as string))
      .type('form')
      .send(hint ? { token, token_type_hint: hint } : { token });
}

/** An admin client holding `scopes`, and a client_credentials access token for it. */
export async function adminToken(server: TestServer, scopes: string[], id = `admin-${scopes.join('-').replace(/:/g, '_')}`): Promise<string> {
  const client = await server.createClient({ id, grantTypes: ['client_credentials'], scopes });
  return clientCredentialsToken(server, client);
}

/** A client_credentials grant that must succeed; returns the access token. */
export async function clientCredentialsToken(server: TestServer, client: TestClient): Promise<string> {
  const response = await postToken(server, { grant_type: 'client_credentials' }, authOf(client));
  if (response.status !== 200) throw new Error(`client_credentials grant failed: ${response.status} ${response.text}`);
  return response.body.access_token as string;
}
