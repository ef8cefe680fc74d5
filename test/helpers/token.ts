import { createRemoteJWKSet, jwtVerify, type JWTPayload, type JWTHeaderParameters } from 'jose';
import type { Response } from 'supertest';
import { basicAuth, type TestServer } from './server.js';

/** How a test client authenticates at /token. */
export type TestClientAuth =
  | { basic: [clientId: string, secret: string] }
  | { post: [clientId: string, secret: string] }
  | { none: string }
  | undefined;

/** POST /token with a form body, authenticating as `auth` says. */
export function postToken(server: TestServer, form: Record<string, string>, auth?: TestClientAuth): Promise<Response> {
  const body: Record<string, string> = { ...form };
  const request = server.http.post('/token').type('form');
  if (auth && 'basic' in auth) request.set('Authorization', basicAuth(...auth.basic));
  if (auth && 'post' in auth) Object.assign(body, { client_id: auth.post[0], client_secret: auth.post[1] });
  if (auth && 'none' in auth) body.client_id = auth.none;
  return request.send(body);
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
