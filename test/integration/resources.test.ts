import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { auth } from 'express-oauth2-jwt-bearer';
import * as client from 'openid-client';
import { adminToken, expectOAuthError, postToken, refresh, verifyAccessToken, type TestClient, type TokenBody } from '../helpers/token.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

const ORDERS = 'https://orders.example.com/';
const BILLING = 'urn:example:billing';

let server: TestServer;
let admin: string;
let app: TestClient;
let alice: { username: string; password: string };

/** A form with `resource` repeated, as RFC 8707 sends several. */
function withResources(form: Record<string, string>, resources: string[]): string {
  const body = new URLSearchParams(form);
  for (const resource of resources) body.append('resource', resource);
  return body.toString();
}

function tokenFor(form: Record<string, string>, resources: string[], who: TestClient = app) {
  return server.http
    .post('/token')
    .auth(who.clientId, who.clientSecret as string)
    .type('form')
    .send(withResources(form, resources));
}

function claimsOf(token: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(token.split('.')[1] as string, 'base64url').toString('utf8')) as Record<string, unknown>;
}

beforeAll(async () => {
  server = await startTestServer();
  admin = await adminToken(server, ['admin:clients', 'admin:tokens']);
  for (const [uri, scopes] of [
    [ORDERS, ['orders:read', 'orders:write']],
    [BILLING, ['billing:read']],
  ] as const) {
    const created = await server.http
      .post('/admin/resources')
      .auth(admin, { type: 'bearer' })
      .send({ uri, scopes: [...scopes] });
    expect(created.status).toBe(201);
  }
  app = await server.createClient({
    id: 'shop',
    grantTypes: ['password', 'refresh_token', 'client_credentials'],
    scopes: ['orders:read', 'orders:write', 'billing:read', 'profile'],
    resources: [ORDERS, BILLING],
  });
  alice = await server.createUser({ username: 'alice', scopes: ['orders:read', 'billing:read', 'profile'] });
});
afterAll(() => server.close());

describe('the admin API registers resources', () => {
  it('creates, reads, lists, changes and audits a resource; its URI is a path segment', async () => {
    const uri = 'https://reports.example.com/api?v=1';
    const created = await server.http
      .post('/admin/resources')
      .auth(admin, { type: 'bearer' })
      .send({ uri, scopes: ['reports:read'] });
    expect(created.status).toBe(201);
    expect(created.headers.location).toBe(`/admin/resources/${encodeURIComponent(uri)}`);
    expect(created.body).toMatchObject({ uri, scopes: ['reports:read'] });

    const read = await server.http.get(created.headers.location as string).auth(admin, { type: 'bearer' });
    expect(read.body).toMatchObject({ uri, scopes: ['reports:read'] });
    const changed = await server.http
      .patch(created.headers.location as string)
      .auth(admin, { type: 'bearer' })
      .send({ scopes: ['reports:read', 'reports:export'] });
    expect(changed.body.scopes).toEqual(['reports:read', 'reports:export']);
    const list = await server.http.get('/admin/resources').auth(admin, { type: 'bearer' });
    expect(list.body.items.map((item: { uri: string }) => item.uri)).toEqual(expect.arrayContaining([ORDERS, BILLING, uri]));

    expect((await server.http.delete(created.headers.location as string).auth(admin, { type: 'bearer' })).status).toBe(204);
    expect((await server.http.get(created.headers.location as string).auth(admin, { type: 'bearer' })).status).toBe(404);
    const audit = await server.http.get('/admin/audit').query({ target: uri }).auth(admin, { type: 'bearer' });
    expect(audit.body.items.map((entry: { action: string }) => entry.action)).toEqual(['resource.delete', 'resource.update', 'resource.create']);
  });

  it.each([
    ['a relative URI', '/orders'],
    ['a fragment', 'https://api.example.com/#x'],
    ['a space', 'https://api.example.com/a b'],
    ['no scheme', 'api.example.com'],
    ['an overlong URI', `https://api.example.com/${'a'.repeat(2100)}`],
  ])('refuses %s with 400 and changes nothing', async (_name, uri) => {
    const response = await server.http
      .post('/admin/resources')
      .auth(admin, { type: 'bearer' })
      .send({ uri, scopes: ['x'] });
    expectOAuthError(response, 400, 'invalid_request');
  });

  it('answers bad input of any shape with 4xx JSON, never 5xx', async () => {
    const bad = [
      server.http.get('/admin/resources/%E0%A4%A').auth(admin, { type: 'bearer' }),
      server.http.get(`/admin/resources/${'a'.repeat(5000)}`).auth(admin, { type: 'bearer' }),
      server.http
        .patch(`/admin/resources/${encodeURIComponent(ORDERS)}`)
        .auth(admin, { type: 'bearer' })
        .send({ scopes: 'orders:read' }),
      server.http
        .post('/admin/resources')
        .auth(admin, { type: 'bearer' })
        .send({ uri: ['x'], scopes: ['x'] }),
      server.http
        .post('/admin/clients')
        .auth(admin, { type: 'bearer' })
        .send({
          client_id: 'bad-keys',
          grant_types: ['client_credentials'],
          scopes: ['x'],
          token_endpoint_auth_method: 'private_key_jwt',
          jwks: { keys: 'x' },
        }),
      server.http
        .post('/admin/clients')
        .auth(admin, { type: 'bearer' })
        .send({ client_id: 'bad-uri', grant_types: ['client_credentials'], scopes: ['x'], token_endpoint_auth_method: 'private_key_jwt', jwks_uri: 'ftp://x' }),
      tokenFor({ grant_type: 'client_credentials' }, [`https://x.example/${'a'.repeat(3000)}`]),
    ];
    for (const response of await Promise.all(bad)) {
      expect(response.status).toBeGreaterThanOrEqual(400);
      expect(response.status).toBeLessThan(500);
      expect(typeof response.body.error).toBe('string');
    }
  });

  it('refuses a duplicate (409), a resource without scopes (400) and a client naming an unknown resource (400)', async () => {
    expectOAuthError(
      await server.http
        .post('/admin/resources')
        .auth(admin, { type: 'bearer' })
        .send({ uri: ORDERS, scopes: ['x'] }),
      409,
      'conflict',
    );
    expectOAuthError(
      await server.http.post('/admin/resources').auth(admin, { type: 'bearer' }).send({ uri: 'https://x.example', scopes: [] }),
      400,
      'invalid_request',
    );
    const unknown = await server.http
      .post('/admin/clients')
      .auth(admin, { type: 'bearer' })
      .send({ client_id: 'ghost-api', grant_types: ['client_credentials'], scopes: ['x'], resources: ['https://nowhere.example'] });
    expectOAuthError(unknown, 400, 'invalid_request');
    expect((await server.http.get('/admin/clients/ghost-api').auth(admin, { type: 'bearer' })).status).toBe(404);
  });

  it('refuses to delete a resource while a client is registered for it, and deletes it once none is', async () => {
    const uri = 'https://temporary.example.com';
    await server.http
      .post('/admin/resources')
      .auth(admin, { type: 'bearer' })
      .send({ uri, scopes: ['t'] });
    const registered = await server.http
      .post('/admin/clients')
      .auth(admin, { type: 'bearer' })
      .send({ client_id: 'temp-client', grant_types: ['client_credentials'], scopes: ['t'], resources: [uri] });
    expect(registered.status).toBe(201);
    expect(registered.body.resources).toEqual([uri]);
    const path = `/admin/resources/${encodeURIComponent(uri)}`;
    const refused = expectOAuthError(await server.http.delete(path).auth(admin, { type: 'bearer' }), 409, 'conflict');
    expect(refused.error_description).toContain('temp-client');
    const patched = await server.http.patch('/admin/clients/temp-client').auth(admin, { type: 'bearer' }).send({ resources: [] });
    expect(patched.body.resources).toEqual([]);
    expect((await server.http.delete(path).auth(admin, { type: 'bearer' })).status).toBe(204);
  });
});

describe('/token with resource (RFC 8707)', () => {
  it('client_credentials: aud is the resource, scope limited to what it defines', async () => {
    const response = await tokenFor({ grant_type: 'client_credentials' }, [ORDERS]);
    expect(response.status).toBe(200);
    expect(response.body.scope).toBe('orders:read orders:write');
    const { payload } = await verifyAccessToken(server, response.body.access_token as string, ORDERS);
    expect(payload.aud).toBe(ORDERS);
    // A resource server for the other API refuses it.
    await expect(verifyAccessToken(server, response.body.access_token as string, BILLING)).rejects.toMatchObject({ code: 'ERR_JWT_CLAIM_VALIDATION_FAILED' });
  });

  it('two resources: aud is the list, scope what the two define together', async () => {
    const response = await tokenFor({ grant_type: 'client_credentials', scope: 'orders:read billing:read profile' }, [ORDERS, BILLING]);
    expect(response.status).toBe(200);
    expect(response.body.scope).toBe('orders:read billing:read');
    expect(claimsOf(response.body.access_token as string).aud).toEqual([ORDERS, BILLING]);
  });

  it('password and refresh: the grant remembers its resources, a refresh may narrow to a subset', async () => {
    const first = await tokenFor({ grant_type: 'password', username: alice.username, password: alice.password }, [ORDERS, BILLING]);
    expect(first.status).toBe(200);
    // The user lacks orders:write: what the request may have, limited by the resources' scopes.
    expect(first.body.scope).toBe('orders:read billing:read');
    expect(claimsOf(first.body.access_token as string).aud).toEqual([ORDERS, BILLING]);

    const narrowed = await tokenFor({ grant_type: 'refresh_token', refresh_token: first.body.refresh_token as string }, [BILLING]);
    expect(narrowed.status).toBe(200);
    expect(narrowed.body.scope).toBe('billing:read');
    expect(claimsOf(narrowed.body.access_token as string).aud).toBe(BILLING);

    // No resource: the grant's, whole again (RFC 8707 §2.2, as scope in RFC 6749 §6).
    const whole = (await refresh(server, app, narrowed.body.refresh_token as string)).body as TokenBody;
    expect(whole.scope).toBe('orders:read billing:read');
    expect(claimsOf(whole.access_token).aud).toEqual([ORDERS, BILLING]);

    const introspected = await server.http
      .post('/introspect')
      .auth(app.clientId, app.clientSecret as string)
      .type('form')
      .send({ token: whole.access_token });
    expect(introspected.body).toMatchObject({ active: true, aud: [ORDERS, BILLING] });
  });

  it('a refresh naming a resource outside its grant is invalid_target; the family lives on', async () => {
    const first = await tokenFor({ grant_type: 'password', username: alice.username, password: alice.password }, [BILLING]);
    const outside = await tokenFor({ grant_type: 'refresh_token', refresh_token: first.body.refresh_token as string }, [ORDERS]);
    expectOAuthError(outside, 400, 'invalid_target');
    expect((await refresh(server, app, first.body.refresh_token as string)).status).toBe(200);
  });

  it('a client that lost some of its grant’s resources refreshes to the rest; with none left, invalid_grant', async () => {
    const kiosk = await server.createClient({
      id: 'kiosk',
      grantTypes: ['password', 'refresh_token'],
      scopes: ['orders:read', 'billing:read'],
      resources: [ORDERS, BILLING],
    });
    const setResources = async (resources: string[]) => {
      const changed = await server.http.patch('/admin/clients/kiosk').auth(admin, { type: 'bearer' }).send({ resources });
      expect(changed.status).toBe(200);
    };
    const first = await tokenFor({ grant_type: 'password', username: alice.username, password: alice.password }, [ORDERS, BILLING], kiosk);
    expect(claimsOf(first.body.access_token as string).aud).toEqual([ORDERS, BILLING]);

    await setResources([ORDERS]);
    const narrowed = await refresh(server, kiosk, first.body.refresh_token as string);
    expect({ status: narrowed.status, scope: narrowed.body.scope }).toEqual({ status: 200, scope: 'orders:read' });
    expect(claimsOf(narrowed.body.access_token as string).aud).toBe(ORDERS);

    // Nothing of the grant left: no token for another audience; the client signs the user in again.
    await setResources([]);
    const refused = await refresh(server, kiosk, narrowed.body.refresh_token as string);
    expectOAuthError(refused, 400, 'invalid_grant');
    expect(refused.body.error_description).toMatch(/resources/);
  });

  it('a grant without resources keeps the default audience and refuses a resource at refresh', async () => {
    const first = await postToken(
      server,
      { grant_type: 'password', username: alice.username, password: alice.password },
      { basic: [app.clientId, app.clientSecret as string] },
    );
    expect(claimsOf(first.body.access_token as string).aud).toBe(server.baseUrl);
    expectOAuthError(await tokenFor({ grant_type: 'refresh_token', refresh_token: first.body.refresh_token as string }, [ORDERS]), 400, 'invalid_target');
  });

  it.each([
    ['a resource the client is not registered for', ['https://reports.example.com/']],
    ['a malformed resource', ['not a uri']],
    ['one good and one foreign resource', [ORDERS, 'https://evil.example']],
  ])('refuses %s with invalid_target', async (_name, resources) => {
    expectOAuthError(await tokenFor({ grant_type: 'client_credentials' }, resources), 400, 'invalid_target');
    expectOAuthError(await tokenFor({ grant_type: 'password', username: alice.username, password: alice.password }, resources), 400, 'invalid_target');
  });

  it('a scope the resources do not define leaves nothing: invalid_scope', async () => {
    expectOAuthError(await tokenFor({ grant_type: 'client_credentials', scope: 'profile' }, [ORDERS]), 400, 'invalid_scope');
  });

  it('still refuses any other repeated parameter', async () => {
    const response = await server.http
      .post('/token')
      .auth(app.clientId, app.clientSecret as string)
      .type('form')
      .send('grant_type=client_credentials&scope=orders:read&scope=billing:read');
    expectOAuthError(response, 400, 'invalid_request');
  });
});

describe('resource servers check their own aud', () => {
  it('express-oauth2-jwt-bearer with audience = the resource accepts its tokens and refuses the other API’s', async () => {
    const api = express();
    api.use(auth({ issuerBaseURL: server.baseUrl, audience: ORDERS, tokenSigningAlg: 'RS256', strict: true }));
    api.get('/orders', (request, response) => response.json({ scope: request.auth?.payload.scope }));
    api.use(((error, _request, response, _next) =>
      response.status((error as { status?: number }).status ?? 500).json({ error: 'refused' })) as express.ErrorRequestHandler);
    const listening: Server = createServer(api);
    await new Promise<void>((resolve) => listening.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(listening.address() as AddressInfo).port}/orders`;
    try {
      const orders = (await tokenFor({ grant_type: 'client_credentials' }, [ORDERS])).body.access_token as string;
      const billing = (await tokenFor({ grant_type: 'client_credentials' }, [BILLING])).body.access_token as string;
      const accepted = await fetch(url, { headers: { Authorization: `Bearer ${orders}` } });
      expect({ status: accepted.status, body: await accepted.json() }).toEqual({ status: 200, body: { scope: 'orders:read orders:write' } });
      expect((await fetch(url, { headers: { Authorization: `Bearer ${billing}` } })).status).toBe(401);
    } finally {
      listening.closeAllConnections();
      await new Promise<void>((resolve) => listening.close(() => resolve()));
    }
  });

  it('openid-client sends resource and gets a token for it', async () => {
    const config = await client.discovery(new URL(server.baseUrl), app.clientId, undefined, client.ClientSecretBasic(app.clientSecret as string), {
      execute: [client.allowInsecureRequests],
      algorithm: 'oauth2',
    });
    const tokens = await client.clientCredentialsGrant(config, { resource: BILLING });
    expect(tokens.scope).toBe('billing:read');
    const { payload } = await verifyAccessToken(server, tokens.access_token, BILLING);
    expect(payload.aud).toBe(BILLING);
  });
});
