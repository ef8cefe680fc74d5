import knexFactory, { type Knex } from 'knex';
import type { Response } from 'supertest';
import { closeDatabase, openDatabase } from '../../src/store/database.js';
import { migrateToLatest } from '../../src/store/migrate.js';
import { createPostgresDatabase, describeWithPostgres, type PostgresDatabase, type TestDatabase } from '../helpers/database.js';
import { basicAuth, startTestServer, type TestServer } from '../helpers/server.js';
import { startTcpProxy, type TcpProxy } from '../helpers/tcp-proxy.js';
import { TestClock } from '../helpers/clock.js';
import { adminToken, introspector, passwordTokens, postToken, refresh } from '../helpers/token.js';

/**
 * Database faults are a PostgreSQL matter (the embedded database has no network), so this file
 * runs only against PostgreSQL (TEST_DATABASE_URL), and is reported as skipped without it.
 * Gatehouse reaches its own fresh database through a TCP proxy the test controls.
 */

/** Short bounds, so a fault turns into an answer within seconds. */
const STATEMENT_TIMEOUT_MS = 1000;
const CONNECT_TIMEOUT_MS = 1000;
const ACQUIRE_TIMEOUT_MS = 2000;

let postgres: PostgresDatabase;
let direct: Knex;
let proxy: TcpProxy;
let server: TestServer;
/** Real time, moved ahead by hand where a cache must run out during a fault. */
const clock = new TestClock(new Date());
let client: { clientId: string; clientSecret: string | null };
let user: { username: string; password: string };
let introspect: (token: string) => Promise<Response>;
let adminAccessToken: string;
/** How long each round of faulted requests took to be answered (reported with DEBUG_FAULT_TIMINGS). */
const faultAnswerMs: number[] = [];

function passwordGrant(): Promise<Response> {
  return postToken(
    server,
    { grant_type: 'password', username: user.username, password: user.password },
    { basic: [client.clientId, client.clientSecret as string] },
  );
}

function expectUnavailable(response: Response): void {
  expect({ status: response.status, error: response.body?.error }).toEqual({ status: 503, error: 'temporarily_unavailable' });
  expect(typeof response.body.error_description).toBe('string');
  expect(Number(response.headers['retry-after'])).toBeGreaterThan(0);
  expect(response.headers['cache-control']).toBe('no-store');
  expect(response.text).not.toMatch(/at .*\.(ts|js):\d+/);
}

/** Every database-backed endpoint answers 503 (all at once, as under load); liveness still answers 200. */
async function expectEveryEndpointUnavailable(tokens: { access_token: string; refresh_token?: string }): Promise<void> {
  const started = Date.now();
  const [grant, refreshed, introspected, revoked, adminList, ready, live] = await Promise.all([
    passwordGrant(),
    refresh(server, client, tokens.refresh_token as string),
    introspect(tokens.access_token),
    server.http
      .post('/revoke')
      .set('Authorization', basicAuth(client.clientId, client.clientSecret as string))
      .type('form')
      .send({ token: tokens.refresh_token as string }),
    server.http.get('/admin/users').set('Authorization', `Bearer ${adminAccessToken}`),
    server.http.get('/readyz'),
    server.http.get('/healthz'),
  ]);
  faultAnswerMs.push(Date.now() - started);
  for (const response of [grant, refreshed, introspected, revoked, adminList]) expectUnavailable(response);
  expect(ready.status).toBe(503);
  expect(ready.body).toMatchObject({ status: 'unavailable', checks: { database: 'failing' } });
  expect(Number(ready.headers['retry-after'])).toBeGreaterThan(0);
  expect(live.status).toBe(200);
}

/** Recovery without a restart: the next requests work, including the chain issued before the fault. */
async function expectRecovered(tokens: { access_token: string; refresh_token?: string }): Promise<void> {
  expect((await server.http.get('/readyz')).status).toBe(200);
  const fresh = await passwordGrant();
  expect(fresh.status).toBe(200);
  const refreshed = await refresh(server, client, tokens.refresh_token as string);
  expect(refreshed.status).toBe(200);
  const active = await introspect(refreshed.body.access_token as string);
  expect(active.body).toMatchObject({ active: true });
}

describeWithPostgres('database faults', () => {
  beforeAll(async () => {
    postgres = await createPostgresDatabase();
    const url = postgres.url;
    direct = knexFactory({ client: 'pg', connection: url, pool: { min: 0, max: 2 } });
    const target = new URL(url);
    proxy = await startTcpProxy({ host: target.hostname, port: Number(target.port || 5432) });
    const db = openDatabase({
      databaseUrl: proxy.url(url),
      statementTimeoutMs: STATEMENT_TIMEOUT_MS,
      connectTimeoutMs: CONNECT_TIMEOUT_MS,
      acquireTimeoutMs: ACQUIRE_TIMEOUT_MS,
      poolMax: 4,
    });
    await migrateToLatest(db);
    const database: TestDatabase = { db, url, close: () => closeDatabase(db) };
    server = await startTestServer({ database, clock, env: { RATE_LIMIT_PER_IP: '0', LOCKOUT_THRESHOLD: '0' } });
    client = await server.createClient({ id: 'app' });
    user = await server.createUser({ username: 'alice' });
    introspect = await introspector(server);
    adminAccessToken = await adminToken(server, ['admin:users']);
  });

  afterEach(async () => {
    // A failed test must not leave the next one behind a broken proxy.
    await proxy.restore();
  });

  afterAll(async () => {
    if (process.env.DEBUG_FAULT_TIMINGS) process.stderr.write(`fault answer times (ms): ${faultAnswerMs.join(', ')}\n`);
    await proxy?.restore();
    await server?.close();
    await proxy?.close();
    await direct?.destroy();
    await postgres?.drop();
  });

  describe('database unreachable: connections cut and new ones refused', () => {
    test('requests fail fast with 503 temporarily_unavailable, readiness fails, liveness holds, and it recovers by itself', async () => {
      const before = await passwordTokens(server, client, user);
      expect(proxy.connectionCount()).toBeGreaterThan(0);

      await proxy.cut();
      await expectEveryEndpointUnavailable(before);
      // Still down: a second round meets refused connections rather than dead pooled ones.
      expectUnavailable(await passwordGrant());

      await proxy.restore();
      await expectRecovered(before);
    }, 30_000);
  });

  describe('discovery during an outage', () => {
    test('the metadata and the JWKS still answer (the metadata with the scopes last read), while token requests get 503', async () => {
      const before = await server.http.get('/.well-known/oauth-authorization-server');
      expect(before.status).toBe(200);
      await proxy.cut();
      // Past the metadata's 10 s cache of the scopes: it tries the database, and keeps the last document.
      clock.advance(11);
      const during = await server.http.get('/.well-known/oauth-authorization-server');
      expect({ status: during.status, body: during.body }).toEqual({ status: 200, body: before.body });
      expect((await server.http.get('/.well-known/jwks.json')).status).toBe(200);
      expectUnavailable(await passwordGrant());
    }, 30_000);
  });

  describe('database stops answering: connections hang', () => {
    test('requests fail with 503 within the timeouts instead of hanging, and it recovers by itself', async () => {
      const before = await passwordTokens(server, client, user);
      expect(proxy.connectionCount()).toBeGreaterThan(0);

      proxy.stall();
      // Pooled connections now swallow queries; new ones never finish their handshake.
      await Promise.all([
        passwordGrant().then(expectUnavailable),
        introspect(before.access_token).then(expectUnavailable),
        passwordGrant().then(expectUnavailable),
      ]);
      await expectEveryEndpointUnavailable(before);

      await proxy.restore();
      await expectRecovered(before);
    }, 60_000);
  });

  describe('database too slow: a statement outlives statement_timeout', () => {
    test('a request blocked behind a lock answers 503, and the next one works once the lock is gone', async () => {
      const before = await passwordTokens(server, client, user);
      const locker = await direct.transaction();
      try {
        // Holds every reader of users and refresh_tokens until the transaction ends.
        await locker.raw('LOCK TABLE users, refresh_tokens IN ACCESS EXCLUSIVE MODE');
        expectUnavailable(await passwordGrant());
        expectUnavailable(await refresh(server, client, before.refresh_token as string));
      } finally {
        await locker.rollback();
      }
      await expectRecovered(before);
    }, 30_000);
  });
});
