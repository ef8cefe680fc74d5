import { createRemoteJWKSet, decodeProtectedHeader, jwtVerify } from 'jose';
import * as oauth from 'oauth4webapi';
import * as client from 'openid-client';
import { basicAuth, startTestServer, type TestServer } from '../helpers/server.js';
import { clientCredentialsToken, type TestClient } from '../helpers/token.js';

let server: TestServer;
let api: TestClient;
let accessToken: string;

beforeAll(async () => {
  server = await startTestServer();
  api = await server.createClient({ id: 'orders-api', grantTypes: ['client_credentials'], scopes: ['read'] });
  accessToken = await clientCredentialsToken(server, api);
});
afterAll(() => server.close());

function introspect(token: string, accept: string) {
  return server.http
    .post('/introspect')
    .set('Authorization', basicAuth(api.clientId, api.clientSecret as string))
    .set('Accept', accept)
    .type('form')
    .send({ token })
    .buffer(true)
    .parse((response, done) => {
      let text = '';
      response.on('data', (chunk: Buffer) => (text += chunk.toString()));
      response.on('end', () => done(null, text));
    });
}

describe('RFC 9701: a signed introspection answer on request', () => {
  it('answers a JWT signed with a key of the JWKS: typ, iss, aud = the caller, iat, token_introspection', async () => {
    const response = await introspect(accessToken, 'application/token-introspection+jwt');
    expect(response.status).toBe(200);
    expect(response.headers['content-type']).toMatch(/^application\/token-introspection\+jwt/);
    expect(response.headers['cache-control']).toBe('no-store');
    const jwt = response.body as string;
    const jwks = createRemoteJWKSet(new URL(`${server.baseUrl}/.well-known/jwks.json`));
    const { payload, protectedHeader } = await jwtVerify(jwt, jwks, {
      issuer: server.baseUrl,
      audience: 'orders-api',
      typ: 'token-introspection+jwt',
      algorithms: ['RS256'],
    });
    expect(protectedHeader.kid).toBe(decodeProtectedHeader(accessToken).kid);
    expect(typeof payload.iat).toBe('number');
    expect(payload.token_introspection).toMatchObject({ active: true, client_id: 'orders-api', scope: 'read' });
  });

  it('signs an inactive answer too, and answers JSON without that Accept', async () => {
    const inactive = await introspect('not-a-token', 'application/token-introspection+jwt');
    const claims = JSON.parse(Buffer.from((inactive.body as string).split('.')[1] as string, 'base64url').toString('utf8'));
    expect(claims.token_introspection).toEqual({ active: false });
    const plain = await introspect(accessToken, 'application/json');
    expect(plain.headers['content-type']).toMatch(/^application\/json/);
    expect(JSON.parse(plain.body as string)).toMatchObject({ active: true });
  });

  it.each([
    ['application/token-introspection+jwt;q=0.1, application/json', 'json'],
    ['application/json, application/token-introspection+jwt;q=0.5', 'json'],
    ['application/json;q=0.5, application/token-introspection+jwt', 'jwt'],
    ['application/token-introspection+jwt, application/json', 'jwt'],
    ['Application/Token-Introspection+JWT', 'jwt'],
    ['application/token-introspection+jwt;q=0', 'json'],
    ['*/*', 'json'],
    // q=0: "not acceptable" (RFC 9110 §12.4.2), so the other type that */* allows.
    ['application/json;q=0, */*', 'jwt'],
    ['application/json;q=0, application/*', 'jwt'],
  ])('negotiates Accept: %s → %s', async (accept, expected) => {
    const response = await introspect(accessToken, accept);
    expect(response.status).toBe(200);
    // The answer depends on Accept (RFC 9110 §12.5.5).
    expect(response.headers.vary).toMatch(/\bAccept\b/);
    expect(response.headers['content-type']).toMatch(expected === 'jwt' ? /^application\/token-introspection\+jwt/ : /^application\/json/);
  });

  it('oauth4webapi asks for it, processes it and validates its signature', async () => {
    const insecure = { [oauth.allowInsecureRequests]: true };
    const as = await oauth.processDiscoveryResponse(
      new URL(server.baseUrl),
      await oauth.discoveryRequest(new URL(server.baseUrl), { algorithm: 'oauth2', ...insecure }),
    );
    expect(as.introspection_signing_alg_values_supported).toEqual(['RS256']);
    const caller = { client_id: api.clientId, introspection_signed_response_alg: 'RS256' };
    const response = await oauth.introspectionRequest(as, caller, oauth.ClientSecretBasic(api.clientSecret as string), accessToken, {
      ...insecure,
      requestJwtResponse: true,
    });
    const result = await oauth.processIntrospectionResponse(as, caller, response);
    expect(result).toMatchObject({ active: true, client_id: 'orders-api' });
    await expect(oauth.validateApplicationLevelSignature(as, response, insecure)).resolves.toBeUndefined();
  });

  it('openid-client with introspection_signed_response_alg and non-repudiation checks', async () => {
    const config = await client.discovery(
      new URL(server.baseUrl),
      api.clientId,
      { introspection_signed_response_alg: 'RS256' },
      client.ClientSecretBasic(api.clientSecret as string),
      { execute: [client.allowInsecureRequests], algorithm: 'oauth2' },
    );
    client.enableNonRepudiationChecks(config);
    expect(await client.tokenIntrospection(config, accessToken)).toMatchObject({ active: true, scope: 'read' });
  });
});
