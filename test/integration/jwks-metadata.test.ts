import { createRemoteJWKSet, jwtVerify } from 'jose';
import * as oauth from 'oauth4webapi';
import { startTestServer, type TestServer } from '../helpers/server.js';

let server: TestServer;

beforeAll(async () => {
  server = await startTestServer({ env: { KEY_PUBLISH_AHEAD: '1h' } });
  await server.createClient({ id: 'app', grantTypes: ['password', 'refresh_token'], scopes: ['read', 'write'] });
  await server.createClient({ id: 'service', grantTypes: ['client_credentials'], scopes: ['reports:read'] });
});
afterAll(() => server.close());

describe('the JWKS publishes only public RSA keys', () => {
  it('lists RS256 signing keys with kid and no private members', async () => {
    const response = await server.http.get('/.well-known/jwks.json');
    expect(response.status).toBe(200);
    expect(response.headers['content-type']).toMatch(/^application\/(jwk-set\+)?json/);
    const { keys } = JSON.parse(response.text) as { keys: Record<string, unknown>[] };
    expect(keys.length).toBeGreaterThanOrEqual(1);
    for (const key of keys) {
      expect(key).toMatchObject({ kty: 'RSA', kid: expect.any(String), n: expect.any(String), e: expect.any(String) });
      for (const member of ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k']) expect(key).not.toHaveProperty(member);
      if ('alg' in key) expect(key.alg).toBe('RS256');
      if ('use' in key) expect(key.use).toBe('sig');
    }
    expect(new Set(keys.map((k) => k.kid)).size).toBe(keys.length);
  });
});

describe('the JWKS is cacheable, but no longer than KEY_PUBLISH_AHEAD', () => {
  it('sends Cache-Control with a max-age within the publish-ahead time, and an ETag', async () => {
    const response = await server.http.get('/.well-known/jwks.json');
    const maxAge = /max-age=(\d+)/.exec(response.headers['cache-control'] ?? '');
    expect(maxAge).not.toBeNull();
    expect(Number(maxAge?.[1])).toBeGreaterThan(0);
    expect(Number(maxAge?.[1])).toBeLessThanOrEqual(3600);
    expect(response.headers.etag).toMatch(/^(W\/)?"[^"]+"$/);
  });

  it('answers 304 without a body to a matching If-None-Match', async () => {
    const first = await server.http.get('/.well-known/jwks.json');
    const etag = first.headers.etag as string;
    const second = await server.http.get('/.well-known/jwks.json').set('If-None-Match', etag);
    expect(second.status).toBe(304);
    expect(second.text).toBe('');
    const listed = await server.http.get('/.well-known/jwks.json').set('If-None-Match', `"other", ${etag}`);
    expect(listed.status).toBe(304);
  });

  it('answers 200 with the document to a stale If-None-Match', async () => {
    const response = await server.http.get('/.well-known/jwks.json').set('If-None-Match', '"stale"');
    expect(response.status).toBe(200);
    expect(JSON.parse(response.text).keys.length).toBeGreaterThanOrEqual(1);
  });
});

describe('RFC 8414 metadata describes this server', () => {
  it('names the issuer and the endpoints under it', async () => {
    const response = await server.http.get('/.well-known/oauth-authorization-server');
    expect(response.status).toBe(200);
    expect(response.headers['content-type']).toMatch(/^application\/json/);
    const metadata = response.body;
    expect(metadata.issuer).toBe(server.baseUrl);
    expect(metadata).toMatchObject({
      token_endpoint: `${server.baseUrl}/token`,
      jwks_uri: `${server.baseUrl}/.well-known/jwks.json`,
      introspection_endpoint: `${server.baseUrl}/introspect`,
      revocation_endpoint: `${server.baseUrl}/revoke`,
      response_types_supported: [],
    });
  });

  it('is served with an ETag, and answers 304 to a matching If-None-Match', async () => {
    const first = await server.http.get('/.well-known/oauth-authorization-server');
    expect(first.headers.etag).toMatch(/^"[A-Za-z0-9_-]+"$/);
    const again = await server.http.get('/.well-known/oauth-authorization-server').set('If-None-Match', first.headers.etag as string);
    expect(again.status).toBe(304);
    expect((await server.http.get('/.well-known/oauth-authorization-server').set('If-None-Match', '"other"')).status).toBe(200);
  });

  it('lists the supported grant types, client authentication methods and scopes', async () => {
    const metadata = (await server.http.get('/.well-known/oauth-authorization-server')).body;
    expect([...metadata.grant_types_supported].sort()).toEqual(['client_credentials', 'password', 'refresh_token']);
    expect([...metadata.token_endpoint_auth_methods_supported].sort()).toEqual(['client_secret_basic', 'client_secret_post', 'none', 'private_key_jwt']);
    expect(metadata.token_endpoint_auth_signing_alg_values_supported).toEqual(['RS256', 'PS256', 'ES256', 'EdDSA', 'Ed25519']);
    expect(metadata.introspection_endpoint_auth_methods_supported).toEqual(expect.arrayContaining(['client_secret_basic', 'client_secret_post']));
    expect(metadata.introspection_endpoint_auth_methods_supported).not.toContain('none');
    expect(metadata.revocation_endpoint_auth_methods_supported).toEqual(expect.arrayContaining(['client_secret_basic', 'client_secret_post']));
    expect(metadata.service_documentation).toBe(`${server.baseUrl}/docs`);
    expect(metadata.scopes_supported).toEqual(expect.arrayContaining(['read', 'write', 'reports:read']));
  });

  it('serves the JWKS at the advertised jwks_uri', async () => {
    const metadata = (await server.http.get('/.well-known/oauth-authorization-server')).body;
    const response = await fetch(metadata.jwks_uri);
    expect(response.status).toBe(200);
    expect(((await response.json()) as { keys: unknown[] }).keys.length).toBeGreaterThanOrEqual(1);
  });
});

describe('the issuer is the configured ISSUER without a trailing slash', () => {
  it('strips a trailing slash from ISSUER in metadata and tokens', async () => {
    const other = await startTestServer({ env: { ISSUER: 'https://auth.example.com/' } });
    try {
      const metadata = (await other.http.get('/.well-known/oauth-authorization-server')).body;
      expect(metadata.issuer).toBe('https://auth.example.com');
      expect(metadata.token_endpoint).toBe('https://auth.example.com/token');
    } finally {
      await other.close();
    }
  });
});

describe('an ISSUER with a path (https://example.com/auth)', () => {
  it('is discovered where RFC 8414 §3.1 puts it, serves the URLs it advertises, and keeps the bare routes for a proxy that strips the path', async () => {
    const other = await startTestServer({ issuerPath: '/tenant/auth' });
    try {
      const { clientSecret } = await other.createClient({ id: 'worker', grantTypes: ['client_credentials'], scopes: ['read'] });
      const issuer = new URL(`${other.baseUrl}/tenant/auth`);
      const insecure = { [oauth.allowInsecureRequests]: true };
      // oauth4webapi asks for /.well-known/oauth-authorization-server/tenant/auth and checks the issuer.
      const as = await oauth.processDiscoveryResponse(issuer, await oauth.discoveryRequest(issuer, { algorithm: 'oauth2', ...insecure }));
      expect(as.token_endpoint).toBe(`${issuer.href}/token`);
      const response = await oauth.clientCredentialsGrantRequest(
        as,
        { client_id: 'worker' },
        oauth.ClientSecretBasic(clientSecret as string),
        new URLSearchParams({ scope: 'read' }),
        insecure,
      );
      const tokens = await oauth.processClientCredentialsResponse(as, { client_id: 'worker' }, response);
      const jwks = createRemoteJWKSet(new URL(as.jwks_uri as string), insecure as object);
      const { payload } = await jwtVerify(tokens.access_token, jwks, { issuer: issuer.href, audience: issuer.href });
      expect(payload.client_id).toBe('worker');
      const status = (payload.status as { status_list: { uri: string } }).status_list.uri;
      expect(status.startsWith(`${issuer.href}/statuslists/`)).toBe(true);
      expect((await fetch(status)).status).toBe(200);
      const introspection = await oauth.introspectionRequest(
        as,
        { client_id: 'worker' },
        oauth.ClientSecretBasic(clientSecret as string),
        tokens.access_token,
        insecure,
      );
      expect(await oauth.processIntrospectionResponse(as, { client_id: 'worker' }, introspection)).toMatchObject({ active: true, client_id: 'worker' });
      // The bare routes, as a proxy that strips /tenant/auth passes them on.
      expect((await other.http.get('/.well-known/oauth-authorization-server')).body.issuer).toBe(issuer.href);
      expect((await other.http.get('/.well-known/jwks.json')).status).toBe(200);
      // Neither a path that only starts like it nor another issuer's metadata.
      expect((await other.http.get('/tenant/authtoken')).status).toBe(404);
      expect((await other.http.get('/.well-known/oauth-authorization-server/other')).status).toBe(404);
    } finally {
      await other.close();
    }
  });
});
