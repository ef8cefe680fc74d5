import { startTestServer, basicAuth, type TestServer } from '../helpers/server.js';
import { TestClock } from '../helpers/clock.js';

describe('consecutive failed passwords lock the username (LOCKOUT_THRESHOLD, LOCKOUT_DURATION)', () => {
  let server: TestServer;
  let secret: string;
  const clock = new TestClock();
  const login = (username: string, password: string) =>
    server.http.post('/token').set('Authorization', basicAuth('app', secret)).type('form').send({ grant_type: 'password', username, password });

  beforeAll(async () => {
    // RateLimiterMemory / RateLimiterPostgres keep real time; the clock only moves token logic.
    server = await startTestServer({ clock, env: { LOCKOUT_THRESHOLD: '3', LOCKOUT_DURATION: '2s' } });
    secret = (await server.createClient({ id: 'app', grantTypes: ['password'] })).clientSecret as string;
    await server.createUser({ username: 'alice', password: 'alice password' });
    await server.createUser({ username: 'bob', password: 'bob password' });
  });
  afterAll(() => server.close());

  it('locks after the threshold, refuses even the right password with 429 + Retry-After, and unlocks after the lock', async () => {
    for (let i = 0; i < 3; i++) expect((await login('alice', 'wrong')).body.error).toBe('invalid_grant');
    const locked = await login('alice', 'alice password');
    expect(locked.status).toBe(429);
    expect(locked.body.error).toBe('too_many_requests');
    expect(Number(locked.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    expect(Number(locked.headers['retry-after'])).toBeLessThanOrEqual(2);
    // Other usernames are not affected.
    expect((await login('bob', 'bob password')).status).toBe(200);
    await new Promise((resolve) => setTimeout(resolve, 2100));
    expect((await login('alice', 'alice password')).status).toBe(200);
  });

  it('doubles the lock each further time', async () => {
    for (let i = 0; i < 3; i++) await login('bob', 'wrong');
    const first = await login('bob', 'bob password');
    expect(first.status).toBe(429);
    expect(Number(first.headers['retry-after'])).toBeLessThanOrEqual(2);
    await new Promise((resolve) => setTimeout(resolve, 2100));
    for (let i = 0; i < 3; i++) await login('bob', 'wrong');
    const second = await login('bob', 'bob password');
    expect(second.status).toBe(429);
    expect(Number(second.headers['retry-after'])).toBeGreaterThan(2);
    expect(Number(second.headers['retry-after'])).toBeLessThanOrEqual(4);
  });

  it('a success resets the count of failures', async () => {
    await server.createUser({ username: 'carol', password: 'carol password' });
    for (let round = 0; round < 3; round++) {
      expect((await login('carol', 'wrong')).status).toBe(400);
      expect((await login('carol', 'wrong')).status).toBe(400);
      expect((await login('carol', 'carol password')).status).toBe(200);
    }
  });

  it('locks unknown usernames the same way (no enumeration)', async () => {
    for (let i = 0; i < 3; i++) expect((await login('nobody', 'wrong')).body.error).toBe('invalid_grant');
    expect((await login('nobody', 'wrong')).status).toBe(429);
  });
});

describe('per-IP limits at /token (RATE_LIMIT_PER_IP)', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ env: { RATE_LIMIT_PER_IP: '20', LOCKOUT_THRESHOLD: '0' } });
    await server.createClient({ id: 'svc', grantTypes: ['client_credentials'], secret: 's'.repeat(40) });
  });
  afterAll(() => server.close());

  it('answers 429 with Retry-After past the per-minute budget', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 22; i++) {
      const response = await server.http.post('/token').set('Authorization', basicAuth('svc', 's'.repeat(40))).type('form').send({ grant_type: 'client_credentials' });
      statuses.push(response.status);
      if (response.status === 429) {
        expect(response.body.error).toBe('too_many_requests');
        expect(Number(response.headers['retry-after'])).toBeGreaterThan(0);
      }
    }
    expect(statuses.filter((s) => s === 200)).toHaveLength(20);
    expect(statuses.slice(20)).toEqual([429, 429]);
  });
});

describe('failed client authentications per IP are capped', () => {
  let server: TestServer;
  beforeAll(async () => {
    // RATE_LIMIT_PER_IP 50 → 10 failed client authentications a minute.
    server = await startTestServer({ env: { RATE_LIMIT_PER_IP: '50' } });
    await server.createClient({ id: 'svc', grantTypes: ['client_credentials'], secret: 's'.repeat(40) });
  });
  afterAll(() => server.close());

  it('answers 429 once the failures are used up, even for the right secret', async () => {
    for (let i = 0; i < 10; i++) {
      const wrong = await server.http.post('/introspect').set('Authorization', basicAuth('svc', 'w'.repeat(40))).type('form').send({ token: 'x' });
      expect(wrong.status).toBe(401);
    }
    const refused = await server.http.post('/introspect').set('Authorization', basicAuth('svc', 's'.repeat(40))).type('form').send({ token: 'x' });
    expect(refused.status).toBe(429);
    expect(refused.headers['retry-after']).toBeDefined();
  });
});
