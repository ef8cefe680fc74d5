import { TestClock } from './clock.js';
import { startTestServer, type TestServer } from './server.js';
import { passwordTokens } from './token.js';

export const API_AUDIENCE = 'https://api.example.com';
const STATUS_LIST_TTL_SECONDS = 1;

type StartResourceServer = (options: { issuer: string; audience: string }) => Promise<{ url: string; close(): Promise<void> }>;

/**
 * The behaviour every example resource server must show against a real Gatehouse: 200 with the
 * scope, 403 insufficient_scope without it, 401 for no token, garbage, a foreign audience, a
 * tampered signature or an expired token; and, following the status list, 401 to a revoked token
 * within STATUS_LIST_TTL, without calling /introspect.
 */
export function describeResourceServer(name: string, start: StartResourceServer): void {
  describe(`${name} accepts Gatehouse access tokens and enforces scopes`, () => {
    let server: TestServer;
    let resourceServer: { url: string; close(): Promise<void> };
    let alice: { id: string; username: string; password: string };
    const web = { clientId: 'web', clientSecret: null as string | null };
    const other = { clientId: 'other-api', clientSecret: null as string | null };
    let expiredToken: string;

    beforeAll(async () => {
      // Start two hours back to issue a token that has expired by real time, then move to now.
      const clock = new TestClock(new Date(Date.now() - 2 * 3600 * 1000));
      server = await startTestServer({ clock, env: { STATUS_LIST_TTL: `${STATUS_LIST_TTL_SECONDS}s` } });
      web.clientSecret = (
        await server.createClient({ id: 'web', grantTypes: ['password', 'refresh_token'], scopes: ['read', 'write'], audience: API_AUDIENCE })
      ).clientSecret;
      other.clientSecret = (
        await server.createClient({ id: 'other-api', grantTypes: ['password'], scopes: ['read'], audience: 'https://other.example.com' })
      ).clientSecret;
      alice = await server.createUser({ username: 'alice', scopes: ['read', 'write'] });
      expiredToken = (await passwordTokens(server, web, alice, 'read')).access_token;
      clock.advance(2 * 3600);
      resourceServer = await start({ issuer: server.baseUrl, audience: API_AUDIENCE });
    });
    afterAll(async () => {
      await resourceServer?.close();
      await server?.close();
    });

    const get = (token?: string, method = 'GET') =>
      fetch(`${resourceServer.url}/documents`, { method, headers: token === undefined ? {} : { Authorization: `Bearer ${token}` } });

    it('answers 200 to a token carrying the scope the route requires', async () => {
      const { access_token } = await passwordTokens(server, web, alice, 'read');
      const response = await get(access_token);
      expect(response.status).toBe(200);
      expect(await response.json()).toMatchObject({ sub: alice.id, username: 'alice', scope: 'read', documents: [] });
    });

    it('answers 403 insufficient_scope with a Bearer challenge naming the scope when it is missing', async () => {
      const { access_token } = await passwordTokens(server, web, alice, 'write');
      const response = await get(access_token);
      expect(response.status).toBe(403);
      expect(response.headers.get('www-authenticate')).toMatch(/^Bearer .*error="insufficient_scope".*scope="read"/);
      expect(await response.json()).toMatchObject({ error: 'insufficient_scope' });
      expect((await get(access_token, 'POST')).status).toBe(201);
    });

    it('answers 401 with a Bearer challenge without a token, and to garbage', async () => {
      const none = await get();
      expect(none.status).toBe(401);
      expect(none.headers.get('www-authenticate')).toMatch(/^Bearer\b/);
      // JSON, as every error of the API: a client parses one shape.
      expect(none.headers.get('content-type')).toMatch(/^application\/json/);
      expect(await none.json()).toMatchObject({ error: expect.any(String), error_description: expect.any(String) });
      const garbage = await get('not-a-token');
      expect(garbage.status).toBe(401);
      expect(garbage.headers.get('www-authenticate')).toMatch(/error="invalid_token"/);
    });

    it('answers 401 to a token for another audience, a tampered token and an expired token', async () => {
      const foreign = (await passwordTokens(server, other, alice, 'read')).access_token;
      expect((await get(foreign)).status).toBe(401);
      const good = (await passwordTokens(server, web, alice, 'read')).access_token;
      const [header, payload] = good.split('.') as [string, string];
      const claims = JSON.parse(Buffer.from(payload, 'base64url').toString()) as Record<string, unknown>;
      const widened = Buffer.from(JSON.stringify({ ...claims, scope: 'read write admin' })).toString('base64url');
      expect((await get(`${header}.${widened}.${good.split('.')[2]}`)).status).toBe(401);
      expect((await get(expiredToken)).status).toBe(401);
    });

    it('answers 401 to a revoked token within STATUS_LIST_TTL, without any call to /introspect, and 200 to the others', async () => {
      const introspections = async () =>
        (await server.deps.metrics.httpRequestDuration.get()).values
          .filter((sample) => sample.labels.route === '/introspect' && sample.metricName?.endsWith('_count'))
          .reduce((sum, sample) => sum + sample.value, 0);
      const before = await introspections();
      const revoked = await passwordTokens(server, web, alice, 'read');
      const kept = await passwordTokens(server, web, alice, 'read');
      // The resource server now holds the list (cached for its ttl).
      expect((await get(revoked.access_token)).status).toBe(200);
      const revocation = await server.http
        .post('/revoke')
        .auth('web', web.clientSecret as string)
        .type('form')
        .send({ token: revoked.refresh_token as string });
      expect(revocation.status).toBe(200);
      const revokedAt = Date.now();
      // Asked again until it is refused: it must be, once the cached list is older than the ttl.
      let response = await get(revoked.access_token);
      while (response.status === 200 && Date.now() - revokedAt < 10 * STATUS_LIST_TTL_SECONDS * 1000) {
        await new Promise((resolve) => setTimeout(resolve, 50));
        response = await get(revoked.access_token);
      }
      expect(response.status).toBe(401);
      expect(response.headers.get('www-authenticate')).toMatch(/error="invalid_token"/);
      expect((await get(kept.access_token)).status).toBe(200);
      expect(await introspections()).toBe(before);
    });
  });
}
