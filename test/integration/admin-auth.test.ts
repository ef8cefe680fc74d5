import { decodeJwt } from 'jose';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { TestClock } from '../helpers/clock.js';
import { adminToken, passwordTokens } from '../helpers/token.js';

describe('admin API authentication (RFC 6750)', () => {
  let server: TestServer;
  const clock = new TestClock();

  beforeAll(async () => {
    server = await startTestServer({ clock, env: { ACCESS_TOKEN_TTL: '60' } });
  });
  afterAll(() => server.close());

  it('answers 401 with a Bearer challenge when the token is missing', async () => {
    const response = await server.http.get('/admin/grants');
    expect(response.status).toBe(401);
    expect(response.headers['www-authenticate']).toMatch(/^Bearer/);
    expect(response.body.error).toBe('invalid_token');
  });

  it('answers 401 invalid_token for a garbage token and for a non-Bearer scheme', async () => {
    for (const header of ['Bearer garbage', 'Bearer a.b.c', 'Basic YTpi', 'Bearer']) {
      const response = await server.http.get('/admin/grants').set('Authorization', header);
      expect(response.status).toBe(401);
      expect(response.headers['www-authenticate']).toMatch(/^Bearer .*error="invalid_token"/);
    }
  });

  it('answers 401 for an expired token', async () => {
    const token = await adminToken(server, ['admin:tokens'], 'admin-expiring');
    expect((await server.http.get('/admin/grants').set('Authorization', `Bearer ${token}`)).status).toBe(200);
    clock.advance(61);
    const response = await server.http.get('/admin/grants').set('Authorization', `Bearer ${token}`);
    expect(response.status).toBe(401);
    expect(response.headers['www-authenticate']).toContain('error="invalid_token"');
  });

  it('answers 401 for a revoked token', async () => {
    const token = await adminToken(server, ['admin:tokens'], 'admin-revoked');
    const payload = decodeJwt(token);
    const revoked = await server.http.post('/admin/revocations').set('Authorization', `Bearer ${token}`).send({ jti: payload.jti });
    expect(revoked.body).toEqual({ revoked: 1 });
    expect((await server.http.get('/admin/grants').set('Authorization', `Bearer ${token}`)).status).toBe(401);
  });

  it('answers 403 insufficient_scope when the token lacks the endpoint scope', async () => {
    const token = await adminToken(server, ['admin:keys'], 'admin-keys-only');
    const response = await server.http.get('/admin/users').set('Authorization', `Bearer ${token}`);
    expect(response.status).toBe(403);
    expect(response.body.error).toBe('insufficient_scope');
    expect(response.headers['www-authenticate']).toContain('error="insufficient_scope"');
    expect((await server.http.get('/admin/keys').set('Authorization', `Bearer ${token}`)).status).toBe(200);
  });

  it("accepts a user's password-grant token carrying the scope", async () => {
    const console = await server.createClient({ id: 'console', grantTypes: ['password'], scopes: ['admin:users'] });
    const root = await server.createUser({ username: 'root', scopes: ['admin:users'] });
    const tokens = await passwordTokens(server, console, root);
    const response = await server.http.get('/admin/users').set('Authorization', `Bearer ${tokens.access_token}`);
    expect(response.status).toBe(200);
    expect(response.body.items.map((u: { username: string }) => u.username)).toContain('root');
  });
});
