import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { createTestDatabase, itWithPostgres, type TestDatabase } from '../helpers/database.js';
import { describeWithRedis, testRedisUrl } from '../helpers/redis.js';
import { basicAuth, startTestServer, type TestServer } from '../helpers/server.js';
import { postTokenTo, type TokenAnswer } from '../helpers/token.js';

const SECRET = 's'.repeat(40);

/** An address of our own per test (TRUST_PROXY=true), so counters of other runs never meet ours. */
const freshAddress = (): string => `2001:db8::${randomBytes(2).toString('hex')}:${randomBytes(2).toString('hex')}`;

const clientCredentials = (server: TestServer, address: string): Promise<TokenAnswer> =>
  postTokenTo(server.baseUrl, { grant_type: 'client_credentials' }, { basic: ['svc', SECRET] }, { 'X-Forwarded-For': address });

function expectRefusals(answers: TokenAnswer[]): void {
  for (const answer of answers.filter((a) => a.status !== 200)) {
    expect(answer.status).toBe(429);
    expect(answer.body.error).toBe('too_many_requests');
    expect(Number(answer.headers.get('retry-after'))).toBeGreaterThan(0);
  }
}

/** `count` instances on one database; on PostgreSQL configured with it, so that their counters are its rows. */
async function serversOn(database: TestDatabase, count: number, env: Record<string, string>): Promise<TestServer[]> {
  const servers: TestServer[] = [];
  const onPostgres = database.url ? { DATABASE_URL: database.url } : {};
  for (let i = 0; i < count; i++)
    servers.push(await startTestServer({ database, env: { TRUST_PROXY: 'true', LOCKOUT_THRESHOLD: '0', ...onPostgres, ...env } }));
  await servers[0]!.createClient({ id: 'svc', grantTypes: ['client_credentials'], secret: SECRET });
  return servers;
}

describe('the per-IP limit without Redis (RATE_LIMIT_PER_IP, memory or PostgreSQL)', () => {
  let database: TestDatabase;
  let servers: TestServer[];
  beforeAll(async () => {
    database = await createTestDatabase();
    servers = await serversOn(database, 2, { RATE_LIMIT_PER_IP: '40' });
  });
  afterAll(async () => {
    for (const server of servers) await server.close().catch(() => undefined);
  });

  it('lets exactly the limit through on one instance, however many requests arrive at once', async () => {
    const address = freshAddress();
    const answers = await Promise.all(Array.from({ length: 55 }, () => clientCredentials(servers[0]!, address)));
    expect(answers.filter((a) => a.status === 200)).toHaveLength(40);
    expectRefusals(answers);
    // Another address has its own budget.
    expect((await clientCredentials(servers[0]!, freshAddress())).status).toBe(200);
  });

  itWithPostgres('never lets more than the limit through across two instances on one database', async () => {
    const address = freshAddress();
    const answers: TokenAnswer[] = [];
    for (let i = 0; i < 60; i++) answers.push(await clientCredentials(servers[i % 2]!, address));
    const allowed = answers.filter((a) => a.status === 200).length;
    // Shared: at most the limit in total; a batch the other instance reserved may be refused early:
    // at most (instances − 1) × ⌈limit / 10⌉.
    expect(allowed).toBeLessThanOrEqual(40);
    expect(allowed).toBeGreaterThanOrEqual(40 - 4);
    expectRefusals(answers);
    expect(answers.slice(-10).every((a) => a.status === 429)).toBe(true);
    // The shared counter is a row of rate_limits.
    const row = await database.db('rate_limits').where('key', `token_ip:${address}`).first();
    expect(row).toBeDefined();
  });
});

describeWithRedis('the per-IP limit in Redis (REDIS_URL)', () => {
  let database: TestDatabase;
  let servers: TestServer[];
  let redis: Redis;
  beforeAll(async () => {
    database = await createTestDatabase();
    servers = await serversOn(database, 2, { RATE_LIMIT_PER_IP: '6', REDIS_URL: testRedisUrl! });
    redis = new Redis(testRedisUrl!);
  });
  afterAll(async () => {
    for (const server of servers) await server.close().catch(() => undefined);
    redis.disconnect();
  });

  it('is shared by two instances: the limit counts requests to both, then both answer 429', async () => {
    const address = freshAddress();
    const [first, second] = servers as [TestServer, TestServer];
    const allowed = await Promise.all([first, second, first, second, first, second].map((server) => clientCredentials(server, address)));
    expect(allowed.map((a) => a.status)).toEqual([200, 200, 200, 200, 200, 200]);
    const refused = [await clientCredentials(first, address), await clientCredentials(second, address)];
    expect(refused.map((a) => a.status)).toEqual([429, 429]);
    expectRefusals(refused);
    // The counter is Redis's, not a row of rate_limits.
    expect(Number(await redis.get(`token_ip:${address}`))).toBeGreaterThanOrEqual(6);
    expect(await database.db('rate_limits').where('key', `token_ip:${address}`).first()).toBeUndefined();
  });

  it('counts failed client authentications in Redis too, for every instance', async () => {
    const address = freshAddress();
    // RATE_LIMIT_PER_IP 6 → 10 failed client authentications a minute from one address, on either instance.
    const introspect = (server: TestServer, secret: string) =>
      fetch(`${server.baseUrl}/introspect`, {
        method: 'POST',
        headers: { authorization: basicAuth('svc', secret), 'content-type': 'application/x-www-form-urlencoded', 'x-forwarded-for': address },
        body: 'token=x',
      });
    for (let i = 0; i < 10; i++) expect((await introspect(servers[i % 2]!, 'w'.repeat(40))).status).toBe(401);
    const refused = await introspect(servers[0]!, 'v'.repeat(40));
    expect(refused.status).toBe(429);
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
  });
});
