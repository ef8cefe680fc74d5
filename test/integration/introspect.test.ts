import { basicAuth, startTestServer, type TestServer } from '../helpers/server.js';
import { TestClock } from '../helpers/clock.js';
import { introspector, passwordTokens, refresh } from '../helpers/token.js';

describe('POST /introspect (RFC 7662)', () => {
  let server: TestServer;
  let ask: Awaited<ReturnType<typeof introspector>>;
  let app: { clientId: string; clientSecret: string | null };
  let alice: { id: string; username: string; password: string };
  const clock = new TestClock();

  beforeAll(async () => {
    server = await startTestServer({ clock, env: { ACCESS_TOKEN_TTL: '60' } });
    app = await server.createClient({ id: 'app', grantTypes: ['password', 'refresh_token'], scopes: ['read', 'write'] });
    alice = await server.createUser({ username: 'alice', scopes: ['read', 'write'] });
    ask = await introspector(server);
  });
  afterAll(() => server.close());

  it('describes a live access token with its claims', async () => {
    const tokens = await passwordTokens(server, app, alice, 'read');
    const response = await ask(tokens.access_token);
    expect(response.status).toBe(200);
    expect(response.headers['cache-control']).toBe('no-store');
    expect(response.body).toMatchObject({
      active: true,
      token_type: 'Bearer',
      scope: 'read',
      client_id: 'app',
      sub: alice.id,
      username: 'alice',
      iss: server.baseUrl,
      aud: server.baseUrl,
    });
    expect(typeof response.body.jti).toBe('string');
    expect(response.body.exp - response.body.iat).toBe(60);
  });

  it('describes a live refresh token by the facts of its grant, with or without the hint', async () => {
    const tokens = await passwordTokens(server, app, alice);
    for (const hint of [undefined, 'refresh_token', 'access_token']) {
      const response = await ask(tokens.refresh_token as string, hint);
      expect(response.body).toMatchObject({
        active: true,
        token_type: 'refresh_token',
        client_id: 'app',
        sub: alice.id,
        username: 'alice',
        scope: 'read write',
      });
    }
  });

  it('answers exactly {"active":false} for unknown, malformed and foreign tokens', async () => {
    const foreign = 'eyJhbGciOiJSUzI1NiIsInR5cCI6ImF0K2p3dCIsImtpZCI6IngifQ.eyJzdWIiOiJ4In0.c2lnbmF0dXJl';
    for (const token of ['nope', 'a.b.c', foreign, 'x'.repeat(5000)]) {
      const response = await ask(token);
      expect(response.status).toBe(200);
      expect(response.body).toEqual({ active: false });
    }
  });

  it('answers inactive for an expired access token', async () => {
    const tokens = await passwordTokens(server, app, alice);
    clock.advance(61);
    expect((await ask(tokens.access_token)).body).toEqual({ active: false });
  });

  it('answers inactive for a used (rotated) refresh token, and for the whole family after reuse', async () => {
    const first = await passwordTokens(server, app, alice);
    const second = await refresh(server, app, first.refresh_token as string);
    expect(second.status).toBe(200);
    expect((await ask(first.refresh_token as string)).body).toEqual({ active: false });
    expect((await ask(second.body.access_token)).body.active).toBe(true);
    // Reuse of the first token revokes the family: the second pair dies too.
    expect((await refresh(server, app, first.refresh_token as string)).body.error).toBe('invalid_grant');
    expect((await ask(second.body.access_token)).body).toEqual({ active: false });
    expect((await ask(second.body.refresh_token)).body).toEqual({ active: false });
  });

  it('refuses public clients and unauthenticated callers with 401 invalid_client', async () => {
    const tokens = await passwordTokens(server, app, alice);
    await server.createClient({ id: 'spa', public: true, grantTypes: ['password'], scopes: ['read'] });
    const asPublic = await server.http.post('/introspect').type('form').send({ token: tokens.access_token, client_id: 'spa' });
    expect(asPublic.status).toBe(401);
    expect(asPublic.body.error).toBe('invalid_client');
    const anonymous = await server.http.post('/introspect').type('form').send({ token: tokens.access_token });
    expect(anonymous.status).toBe(401);
    expect(anonymous.body.error).toBe('invalid_client');
    const wrongSecret = await server.http
      .post('/introspect')
      .set('Authorization', basicAuth('resource-server', 'x'.repeat(40)))
      .type('form')
      .send({ token: tokens.access_token });
    expect(wrongSecret.status).toBe(401);
    expect(wrongSecret.headers['www-authenticate']).toMatch(/^Basic/);
  });

  it('requires the token parameter', async () => {
    const client = await server.createClient({ id: 'rs2', grantTypes: ['client_credentials'], scopes: ['x'] });
    const response = await server.http
      .post('/introspect')
      .set('Authorization', basicAuth(client.clientId, client.clientSecret as string))
      .type('form')
      .send({});
    expect(response.status).toBe(400);
    expect(response.body.error).toBe('invalid_request');
  });
});
