import { basicAuth, startTestServer, type TestServer } from '../helpers/server.js';
import { introspector, passwordTokens, refresh } from '../helpers/token.js';

describe('POST /revoke (RFC 7009)', () => {
  let server: TestServer;
  let ask: Awaited<ReturnType<typeof introspector>>;
  let app: { clientId: string; clientSecret: string | null };
  let other: { clientId: string; clientSecret: string | null };
  let spa: { clientId: string; clientSecret: string | null };
  let alice: { id: string; username: string; password: string };

  const revoke = (client: { clientId: string; clientSecret: string | null }, form: Record<string, string>) => {
    const request = server.http.post('/revoke').type('form');
    if (client.clientSecret) request.set('Authorization', basicAuth(client.clientId, client.clientSecret));
    return request.send(client.clientSecret ? form : { ...form, client_id: client.clientId });
  };

  beforeAll(async () => {
    server = await startTestServer();
    app = await server.createClient({ id: 'app', grantTypes: ['password', 'refresh_token'] });
    other = await server.createClient({ id: 'other', grantTypes: ['password', 'refresh_token'] });
    spa = await server.createClient({ id: 'spa', public: true, grantTypes: ['password', 'refresh_token'] });
    alice = await server.createUser({ username: 'alice' });
    ask = await introspector(server);
  });
  afterAll(() => server.close());

  it('revoking a refresh token ends its grant: every refresh token and access token of the family', async () => {
    const first = await passwordTokens(server, app, alice);
    const second = (await refresh(server, app, first.refresh_token as string)).body;
    const response = await revoke(app, { token: second.refresh_token, token_type_hint: 'refresh_token' });
    expect(response.status).toBe(200);
    expect(response.headers['cache-control']).toBe('no-store');
    expect((await ask(first.access_token)).body).toEqual({ active: false });
    expect((await ask(second.access_token)).body).toEqual({ active: false });
    const refused = await refresh(server, app, second.refresh_token);
    expect(refused.status).toBe(400);
    expect(refused.body.error).toBe('invalid_grant');
  });

  it('revoking an access token ends that token only', async () => {
    const tokens = await passwordTokens(server, app, alice);
    const sibling = await passwordTokens(server, app, alice);
    expect((await revoke(app, { token: tokens.access_token })).status).toBe(200);
    expect((await ask(tokens.access_token)).body).toEqual({ active: false });
    expect((await ask(sibling.access_token)).body.active).toBe(true);
    // Its refresh token still works (RFC 7009 §2.1 leaves that to the server; we keep the grant).
    expect((await refresh(server, app, tokens.refresh_token as string)).status).toBe(200);
  });

  it("a client revoking another client's tokens has no effect", async () => {
    const tokens = await passwordTokens(server, app, alice);
    expect((await revoke(other, { token: tokens.refresh_token as string })).status).toBe(200);
    expect((await revoke(other, { token: tokens.access_token })).status).toBe(200);
    expect((await ask(tokens.access_token)).body.active).toBe(true);
    expect((await ask(tokens.refresh_token as string)).body.active).toBe(true);
  });

  it('a public client revokes its own token with client_id alone', async () => {
    const tokens = await passwordTokens(server, spa, alice);
    expect((await revoke(spa, { token: tokens.refresh_token as string })).status).toBe(200);
    expect((await ask(tokens.access_token)).body).toEqual({ active: false });
  });

  it('answers 200 for unknown or malformed tokens (RFC 7009 §2.2)', async () => {
    for (const token of ['unknown', 'a.b.c', 'x'.repeat(3000)]) {
      expect((await revoke(app, { token })).status).toBe(200);
    }
  });

  it('ignores an unknown token_type_hint and looks the token up as every kind (RFC 7009 §2.1)', async () => {
    for (const hint of ['id_token', 'urn:example:unknown']) {
      const tokens = await passwordTokens(server, app, alice);
      expect((await revoke(app, { token: tokens.access_token, token_type_hint: hint })).status).toBe(200);
      expect((await ask(tokens.access_token)).body).toEqual({ active: false });
      expect((await revoke(app, { token: tokens.refresh_token as string, token_type_hint: hint })).status).toBe(200);
      expect((await ask(tokens.refresh_token as string)).body).toEqual({ active: false });
    }
  });

  it('refuses a missing token and unauthenticated callers', async () => {
    const missing = await revoke(app, {});
    expect(missing.status).toBe(400);
    expect(missing.body.error).toBe('invalid_request');
    const anonymous = await server.http.post('/revoke').type('form').send({ token: 'x' });
    expect(anonymous.status).toBe(401);
    expect(anonymous.body.error).toBe('invalid_client');
  });

  it('records revocations in the audit log without token values', async () => {
    const tokens = await passwordTokens(server, app, alice);
    await revoke(app, { token: tokens.refresh_token as string });
    const rows = await server.database.db('audit_log').select('*');
    const text = JSON.stringify(rows);
    expect(
      rows.some(
        (r: { action: string; actor_type: string; actor_id: string }) => r.action === 'grants.revoke' && r.actor_type === 'client' && r.actor_id === 'app',
      ),
    ).toBe(true);
    expect(text).not.toContain(tokens.refresh_token as string);
    expect(text).not.toContain(tokens.access_token);
  });
});
