import argon2 from 'argon2';
import pino from 'pino';
import { REDACTED_PATHS } from '../../src/logger.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { lineCollector } from '../helpers/log.js';
import { adminToken, introspector, passwordTokens, postToken, refresh } from '../helpers/token.js';

describe('logs: one JSON line per request, never a credential', () => {
  const lines: string[] = [];
  let server: TestServer;

  beforeAll(async () => {
    const sink = lineCollector(lines);
    server = await startTestServer({ logger: pino({ level: 'debug', redact: { paths: REDACTED_PATHS, censor: '[redacted]' } }, sink) });
  });
  afterAll(() => server.close());

  it('logs method, route, status, duration, request id and client id, and no secret of a full flow', async () => {
    const app = await server.createClient({ id: 'app', grantTypes: ['password', 'refresh_token'] });
    const user = await server.createUser({ username: 'alice', password: 'alice very secret password' });
    const tokens = await passwordTokens(server, app, user);
    const refreshed = await refresh(server, app, tokens.refresh_token as string);
    const ask = await introspector(server);
    await ask(refreshed.body.access_token);
    await refresh(server, app, tokens.refresh_token as string); // reuse: logged as a warning
    await postToken(server, { grant_type: 'password', username: 'alice', password: 'guess' }, { basic: ['app', 'wrong secret of forty characters........'] });
    const traced = await server.http.get('/healthz').set('X-Request-Id', 'trace-123');
    expect(traced.headers['x-request-id']).toBe('trace-123');

    const entries = lines.map((line) => JSON.parse(line) as Record<string, unknown>);
    const requests = entries.filter((e) => e.msg === 'request');
    expect(requests.find((e) => e.route === '/token' && e.status === 200)).toMatchObject({ method: 'POST', clientId: 'app' });
    expect(requests.find((e) => e.requestId === 'trace-123')).toMatchObject({ route: '/healthz', status: 200 });
    expect(requests.every((e) => typeof e.durationMs === 'number')).toBe(true);
    expect(entries.some((e) => e.msg === 'refresh token reuse: grant revoked')).toBe(true);

    const everything = lines.join('\n');
    for (const secret of [
      app.clientSecret as string,
      user.password,
      tokens.access_token,
      tokens.refresh_token as string,
      refreshed.body.refresh_token,
      'guess',
    ]) {
      expect(everything).not.toContain(secret);
    }
  });

  it('redacts credentials even when code logs them by mistake', () => {
    lines.length = 0;
    server.deps.logger.info({ password: 'p@ss', client_secret: 'cs', headers: { authorization: 'Basic abc' }, body: { refresh_token: 'rt' } }, 'oops');
    const logged = lines.join('\n');
    for (const secret of ['p@ss', '"cs"', 'Basic abc', '"rt"']) expect(logged).not.toContain(secret);
  });
});

describe('GET /metrics', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(() => server.close());

  it('exposes request durations, tokens issued, reuse, revocations, failed logins, key age and pool gauges', async () => {
    const app = await server.createClient({ id: 'app', grantTypes: ['password', 'refresh_token'] });
    const user = await server.createUser({ username: 'alice' });
    const tokens = await passwordTokens(server, app, user);
    await refresh(server, app, tokens.refresh_token as string);
    await refresh(server, app, tokens.refresh_token as string);
    await postToken(server, { grant_type: 'password', username: 'alice', password: 'nope' }, { basic: [app.clientId, app.clientSecret as string] });
    const admin = await adminToken(server, ['admin:tokens']);
    await server.http.post('/admin/revocations').set('Authorization', `Bearer ${admin}`).send({ username: 'alice' });

    const response = await server.http.get('/metrics');
    expect(response.status).toBe(200);
    expect(response.headers['content-type']).toMatch(/^text\/plain/);
    const text = response.text;
    expect(text).toMatch(/gatehouse_http_request_duration_seconds_count\{method="POST",route="\/token",status="200"\} \d+/);
    expect(text).toContain('gatehouse_tokens_issued_total{grant_type="password"} 1');
    expect(text).toContain('gatehouse_tokens_issued_total{grant_type="refresh_token"} 1');
    expect(text).toContain('gatehouse_tokens_issued_total{grant_type="client_credentials"} 1');
    expect(text).toContain('gatehouse_refresh_token_reuse_total 1');
    expect(text).toContain('gatehouse_revocations_total{source="reuse"} 1');
    expect(text).toContain('gatehouse_failed_logins_total 1');
    expect(text).toMatch(/gatehouse_signing_key_age_seconds \d/);
    expect(text).toContain('gatehouse_db_pool_connections_in_use');
    expect(text).toContain('process_cpu_user_seconds_total');
  });

  it('counts the discovery GETs under their route (they skip the router) and sends them the security headers and a request id', async () => {
    const get = await server.http.get('/.well-known/jwks.json');
    const head = await server.http.head('/.well-known/jwks.json');
    for (const answer of [get, head]) {
      expect(answer.status).toBe(200);
      expect(answer.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
      expect(answer.headers).toMatchObject({
        'strict-transport-security': 'max-age=31536000; includeSubDomains',
        'x-content-type-options': 'nosniff',
        'x-frame-options': 'DENY',
        'referrer-policy': 'no-referrer',
        'content-security-policy': "default-src 'none'; frame-ancestors 'none'",
      });
    }
    expect(head.text).toBeFalsy();
    const text = (await server.http.get('/metrics')).text;
    expect(text).toMatch(/gatehouse_http_request_duration_seconds_count\{method="GET",route="\/\.well-known\/jwks\.json",status="200"\} \d+/);
    expect(text).toMatch(/gatehouse_http_request_duration_seconds_count\{method="HEAD",route="\/\.well-known\/jwks\.json",status="200"\} 1/);
  });
});

describe('GET /metrics with METRICS_TOKEN', () => {
  const TOKEN = 'a-metrics-token-of-forty-characters-0123';
  let server: TestServer;
  let open: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ env: { METRICS_TOKEN: TOKEN } });
    open = await startTestServer();
  });
  afterAll(async () => {
    await server.close();
    await open.close();
  });

  it('answers 401 with a Bearer challenge without the token', async () => {
    const response = await server.http.get('/metrics');
    expect(response.status).toBe(401);
    expect(response.headers['www-authenticate']).toMatch(/^Bearer /);
    expect(response.body).toEqual({ error: 'invalid_token', error_description: expect.any(String) });
    expect(response.text).not.toContain('gatehouse_');
  });

  it.each([
    ['a wrong token of the same length', `Bearer ${TOKEN.slice(0, -1)}x`],
    ['a prefix of the token', `Bearer ${TOKEN.slice(0, 32)}`],
    ['the token with more after it', `Bearer ${TOKEN}x`],
    ['the token as Basic credentials', `Basic ${Buffer.from(`metrics:${TOKEN}`).toString('base64')}`],
    ['the token without a scheme', TOKEN],
    ['an admin-style bearer of garbage', 'Bearer eyJhbGciOiJub25lIn0.e30.'],
  ])('answers 401 invalid_token for %s', async (_name, authorization) => {
    const response = await server.http.get('/metrics').set('Authorization', authorization);
    expect(response.status).toBe(401);
    expect(response.headers['www-authenticate']).toMatch(/^Bearer .*error="invalid_token"/);
    expect(response.body.error).toBe('invalid_token');
    expect(response.text).not.toContain(TOKEN);
  });

  it('answers the metrics with the right token (the scheme name in any case)', async () => {
    for (const scheme of ['Bearer', 'bearer']) {
      const response = await server.http.get('/metrics').set('Authorization', `${scheme} ${TOKEN}`);
      expect(response.status).toBe(200);
      expect(response.text).toContain('gatehouse_http_request_duration_seconds');
    }
  });

  it('stays open without METRICS_TOKEN, as the contract lists it among the public endpoints', async () => {
    const response = await open.http.get('/metrics');
    expect(response.status).toBe(200);
    expect(response.text).toContain('process_cpu_user_seconds_total');
  });
});

describe('the client IP behind a proxy (TRUST_PROXY)', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ env: { TRUST_PROXY: 'true', RATE_LIMIT_PER_IP: '2', LOCKOUT_THRESHOLD: '0' } });
    await server.createClient({ id: 'svc', grantTypes: ['client_credentials'], secret: 's'.repeat(40) });
  });
  afterAll(() => server.close());

  it('is the address the nearest proxy appended, so a client cannot pick a new one per request', async () => {
    const call = (forwarded: string) =>
      postToken(server, { grant_type: 'client_credentials' }, { basic: ['svc', 's'.repeat(40)] }, { 'X-Forwarded-For': forwarded });
    expect((await call('1.1.1.1, 10.0.0.9')).status).toBe(200);
    expect((await call('2.2.2.2, 10.0.0.9')).status).toBe(200);
    expect((await call('3.3.3.3, 10.0.0.9')).status).toBe(429);
    expect((await call('3.3.3.3, 10.0.0.8')).status).toBe(200);
  });
});

describe('security headers and CORS', () => {
  let server: TestServer;
  let withCors: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
    withCors = await startTestServer({ env: { CORS_ORIGINS: 'https://app.example' } });
  });
  afterAll(async () => {
    await server.close();
    await withCors.close();
  });

  it('sends the API security headers on every JSON answer, errors included, and no X-Powered-By', async () => {
    const answers = [
      await server.http.get('/healthz'),
      await server.http.get('/.well-known/jwks.json'),
      await postToken(server, { grant_type: 'client_credentials' }),
      await server.http.get('/no-such-path'),
    ];
    expect(answers.map((answer) => answer.status)).toEqual([200, 200, 401, 404]);
    for (const answer of answers) {
      expect(answer.headers).toMatchObject({
        'content-security-policy': "default-src 'none'; frame-ancestors 'none'",
        'strict-transport-security': 'max-age=31536000; includeSubDomains',
        'x-content-type-options': 'nosniff',
        'x-frame-options': 'DENY',
        'referrer-policy': 'no-referrer',
      });
      expect(answer.headers['x-powered-by']).toBeUndefined();
      // helmet's headers for pages (window isolation, legacy HTML features) are for the pages only.
      for (const pageOnly of ['cross-origin-opener-policy', 'origin-agent-cluster', 'x-dns-prefetch-control', 'x-xss-protection']) {
        expect(answer.headers[pageOnly]).toBeUndefined();
      }
    }
  });

  it('sends no CORS headers unless CORS_ORIGINS lists the origin', async () => {
    const off = await postToken(server, {}, undefined, { Origin: 'https://app.example' });
    expect(off.headers['access-control-allow-origin']).toBeUndefined();
    const allowed = await withCors.http.options('/token').set('Origin', 'https://app.example').set('Access-Control-Request-Method', 'POST');
    expect(allowed.headers['access-control-allow-origin']).toBe('https://app.example');
    const other = await withCors.http.options('/token').set('Origin', 'https://evil.example').set('Access-Control-Request-Method', 'POST');
    expect(other.headers['access-control-allow-origin']).toBeUndefined();
    const jwks = await withCors.http.get('/.well-known/jwks.json').set('Origin', 'https://app.example');
    expect(jwks.headers['access-control-allow-origin']).toBe('https://app.example');
    // The status lists and their aggregation: read by resource servers, some of them in browsers.
    for (const path of ['/statuslists', '/statuslists/1']) {
      const list = await withCors.http.get(path).set('Origin', 'https://app.example');
      expect({ path, origin: list.headers['access-control-allow-origin'] }).toEqual({ path, origin: 'https://app.example' });
    }
    const admin = await withCors.http.options('/admin/users').set('Origin', 'https://app.example').set('Access-Control-Request-Method', 'GET');
    expect(admin.headers['access-control-allow-origin']).toBeUndefined();
  });
});

describe('password policy and hash upgrades', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ env: { PASSWORD_MIN_LENGTH: '10' } });
  });
  afterAll(() => server.close());

  it('refuses passwords shorter than PASSWORD_MIN_LENGTH on create and on change', async () => {
    const admin = `Bearer ${await adminToken(server, ['admin:users'])}`;
    const short = await server.http
      .post('/admin/users')
      .set('Authorization', admin)
      .send({ username: 'dan', password: 'short', scopes: ['read'] });
    expect(short.status).toBe(400);
    expect(short.body.error_description).toMatch(/at least 10 characters/);
    const created = await server.http
      .post('/admin/users')
      .set('Authorization', admin)
      .send({ username: 'dan', password: 'long enough password', scopes: ['read'] });
    expect(created.status).toBe(201);
    const change = await server.http.patch(`/admin/users/${created.body.id}`).set('Authorization', admin).send({ password: 'tiny' });
    expect(change.status).toBe(400);
  });

  it('re-hashes a password stored under other argon2 parameters when the user logs in', async () => {
    const app = await server.createClient({ id: 'app', grantTypes: ['password'] });
    const user = await server.createUser({ username: 'old-timer', password: 'old timer password' });
    const weak = await argon2.hash('old timer password', { type: argon2.argon2id, memoryCost: 4096, timeCost: 1, parallelism: 1 });
    await server.database.db('users').where({ id: user.id }).update({ password_hash: weak });
    await passwordTokens(server, app, user);
    const stored = (await server.database.db('users').where({ id: user.id }).first()).password_hash as string;
    expect(stored).not.toBe(weak);
    expect(stored).toMatch(/m=19456,p=1,t=2|m=19456,t=2,p=1/);
    await passwordTokens(server, app, user);
  });
});
