import { randomUUID } from 'node:crypto';
import { TemporarilyUnavailable } from '../../src/errors.js';
import {
  createDatabaseReplayCache,
  createRedisReplayCache,
  createReplayCache,
  REDIS_REPLAY_PREFIX,
  type ReplayCache,
} from '../../src/services/replay-cache.js';
import { connectRedis, type RedisConnection } from '../../src/services/redis-connection.js';
import { systemClock } from '../../src/lib/clock.js';
import { describeWithRedis, testRedisUrl } from '../helpers/redis.js';
import { closeDatabase, openDatabase, type Database } from '../../src/store/database.js';
import { TestClock } from '../helpers/clock.js';
import { createTestDatabase, testDatabaseUrl, type TestDatabase } from '../helpers/database.js';

let database: TestDatabase;
beforeAll(async () => {
  database = await createTestDatabase();
});
afterAll(() => database.close());

const inSeconds = (clock: TestClock, seconds: number): Date => new Date(clock.now().getTime() + seconds * 1000);
let keyNumber = 0;
/**
 * Keys no other test uses: the table is shared by the tests of this file, and Redis by every run of
 * it (one jest worker may run it for each project within the keys' minute), hence the random run id.
 */
const RUN = randomUUID();
const freshKeys = (count: number): string[] => Array.from({ length: count }, () => `dpop:${RUN}:${++keyNumber}`);

async function countRows(): Promise<number> {
  return Number((await database.db('replay_cache').count('* as n').first())?.n);
}

/** Counts the statements that write the replay cache while `run` runs. */
async function countStatements(db: Database, run: () => Promise<void>): Promise<number> {
  let statements = 0;
  const listener = (query: { sql: string }) => {
    if (/insert into replay_cache/i.test(query.sql)) statements++;
  };
  db.on('query', listener);
  try {
    await run();
  } finally {
    db.removeListener('query', listener);
  }
  return statements;
}

const implementations: [string, (clock: TestClock) => ReplayCache][] = [['the replay_cache table', (clock) => createDatabaseReplayCache(database.db, clock)]];

describe.each(implementations)('a replay cache in %s', (_name, create) => {
  it('answers true the first time and false for a replay', async () => {
    const clock = new TestClock();
    const cache = create(clock);
    const [key, other] = freshKeys(2) as [string, string];
    expect(await cache.remember(key, inSeconds(clock, 60))).toBe(true);
    expect(await cache.remember(key, inSeconds(clock, 60))).toBe(false);
    expect(await cache.remember(other, inSeconds(clock, 60))).toBe(true);
  });

  it('answers true exactly once per key for 200 concurrent calls on 50 keys', async () => {
    const clock = new TestClock();
    const cache = create(clock);
    const keys = freshKeys(50);
    const calls = Array.from({ length: 200 }, (_, i) => keys[(i * 7) % 50] as string);
    const answers = await Promise.all(calls.map((key) => cache.remember(key, inSeconds(clock, 60))));
    expect(answers.filter(Boolean)).toHaveLength(50);
    const firsts = calls.filter((_, i) => answers[i]);
    expect(new Set(firsts).size).toBe(50);
  });

  it('forgets a key once its expiry has passed, so it may be used anew', async () => {
    const clock = new TestClock();
    const cache = create(clock);
    const [key] = freshKeys(1) as [string];
    expect(await cache.remember(key, inSeconds(clock, 1))).toBe(true);
    expect(await cache.remember(key, inSeconds(clock, 60))).toBe(false);
    clock.advance(1);
    expect(await cache.remember(key, inSeconds(clock, 60))).toBe(true);
    clock.advance(59);
    expect(await cache.remember(key, inSeconds(clock, 60))).toBe(false);
  });

  it('takes keys of any length and content', async () => {
    const clock = new TestClock();
    const cache = create(clock);
    const key = `client_assertion:${'\u{1F600}'.repeat(5000)}:\u0000:${keyNumber++}`;
    expect(await cache.remember(key, inSeconds(clock, 60))).toBe(true);
    expect(await cache.remember(key, inSeconds(clock, 60))).toBe(false);
  });
});

describe('the PostgreSQL replay cache coalesces concurrent calls into few statements', () => {
  it('sends 200 calls made at once as one statement', async () => {
    const clock = new TestClock();
    const cache = createDatabaseReplayCache(database.db, clock);
    const keys = freshKeys(200);
    const statements = await countStatements(database.db, async () => {
      const answers = await Promise.all(keys.map((key) => cache.remember(key, inSeconds(clock, 60))));
      expect(answers.every(Boolean)).toBe(true);
    });
    expect(statements).toBe(1);
  });

  it('sends calls that arrive while a statement is in flight together in the next one', async () => {
    const clock = new TestClock();
    const cache = createDatabaseReplayCache(database.db, clock);
    const keys = freshKeys(41);
    const statements = await countStatements(database.db, async () => {
      const first = cache.remember(keys[0] as string, inSeconds(clock, 60));
      await new Promise((resolve) => setImmediate(resolve));
      const rest = keys.slice(1).map((key) => cache.remember(key, inSeconds(clock, 60)));
      expect(await Promise.all([first, ...rest])).toEqual(keys.map(() => true));
    });
    expect(statements).toBeLessThanOrEqual(2);
  });

  it('sends calls made in separate callbacks of one pass of the event loop as one statement', async () => {
    const clock = new TestClock();
    const cache = createDatabaseReplayCache(database.db, clock);
    const keys = freshKeys(6);
    const statements = await countStatements(database.db, async () => {
      // Each call in its own callback, as requests arrive in their own I/O callbacks.
      const calls = await new Promise<Promise<boolean>[]>((resolve) => {
        const made: Promise<boolean>[] = [];
        for (const key of keys) {
          setImmediate(() => {
            made.push(cache.remember(key, inSeconds(clock, 60)));
            if (made.length === keys.length) resolve(made);
          });
        }
      });
      expect(await Promise.all(calls)).toEqual(keys.map(() => true));
    });
    expect(statements).toBe(1);
  });

  it('splits a large burst into batches of maxBatch, still exact', async () => {
    const clock = new TestClock();
    const cache = createDatabaseReplayCache(database.db, clock, { maxBatch: 7 });
    const keys = freshKeys(20);
    const calls = [...keys, ...keys, ...keys];
    let answers: boolean[] = [];
    const statements = await countStatements(database.db, async () => {
      answers = await Promise.all(calls.map((key) => cache.remember(key, inSeconds(clock, 60))));
    });
    expect(statements).toBe(Math.ceil(calls.length / 7));
    expect(answers.filter(Boolean)).toHaveLength(20);
  });

  it('rejects every waiting call when the statement fails, and works again afterwards', async () => {
    const clock = new TestClock();
    const cache = createDatabaseReplayCache(database.db, clock);
    const keys = freshKeys(3);
    await database.db.raw('ALTER TABLE replay_cache RENAME TO replay_cache_away');
    try {
      const answers = await Promise.allSettled(keys.map((key) => cache.remember(key, inSeconds(clock, 60))));
      expect(answers.map((answer) => answer.status)).toEqual(['rejected', 'rejected', 'rejected']);
    } finally {
      await database.db.raw('ALTER TABLE replay_cache_away RENAME TO replay_cache');
    }
    expect(await Promise.all(keys.map((key) => cache.remember(key, inSeconds(clock, 60))))).toEqual([true, true, true]);
  });

  it('stores only hashes of the keys', async () => {
    const clock = new TestClock();
    const [key] = freshKeys(1) as [string];
    await createDatabaseReplayCache(database.db, clock).remember(key, inSeconds(clock, 60));
    const rows = await database.db('replay_cache').select('key');
    expect(rows.every((row: { key: string }) => /^[0-9a-f]{64}$/.test(row.key))).toBe(true);
  });
});

describe('instances share one PostgreSQL replay cache', () => {
  let second: Database;
  beforeAll(() => {
    // On PostgreSQL a second connection pool, as a second instance has; PGlite has one process.
    second = testDatabaseUrl ? openDatabase({ databaseUrl: database.url }) : database.db;
  });
  afterAll(async () => {
    if (second !== database.db) await closeDatabase(second);
  });

  it('a key claimed by one instance is a replay at the other', async () => {
    const clock = new TestClock();
    const one = createDatabaseReplayCache(database.db, clock);
    const two = createDatabaseReplayCache(second, clock);
    const [key] = freshKeys(1) as [string];
    expect(await one.remember(key, inSeconds(clock, 60))).toBe(true);
    expect(await two.remember(key, inSeconds(clock, 60))).toBe(false);
  });

  it('200 concurrent calls on 50 keys spread over two instances: exactly 50 first uses', async () => {
    const clock = new TestClock();
    const instances = [createDatabaseReplayCache(database.db, clock), createDatabaseReplayCache(second, clock)];
    const keys = freshKeys(50);
    // Every key is asked twice at each instance.
    const answers = await Promise.all(
      Array.from({ length: 200 }, (_, i) => (instances[i % 2] as ReplayCache).remember(keys[Math.floor(i / 4)] as string, inSeconds(clock, 60))),
    );
    expect(answers.filter(Boolean)).toHaveLength(50);
  });

  it('never deadlocks when two instances claim the same keys in opposite orders at once', async () => {
    const clock = new TestClock();
    const one = createDatabaseReplayCache(database.db, clock);
    const two = createDatabaseReplayCache(second, clock);
    for (let round = 0; round < 10; round++) {
      const keys = freshKeys(100);
      const answers = await Promise.all([
        ...keys.map((key) => one.remember(key, inSeconds(clock, 60))),
        ...[...keys].reverse().map((key) => two.remember(key, inSeconds(clock, 60))),
      ]);
      expect(answers.filter(Boolean)).toHaveLength(100);
    }
  });
});

describe('without Redis, the replay cache is the database table, on PostgreSQL and on the embedded database', () => {
  it('remembers a key across a restart: a new cache on the same database refuses a key claimed before it', async () => {
    const clock = new TestClock();
    const [key] = freshKeys(1) as [string];
    const before = await countRows();
    expect(await createReplayCache(database.db, clock).remember(key, inSeconds(clock, 60))).toBe(true);
    expect(await countRows()).toBe(before + 1);
    // What the server makes when it starts again on the same DATA_DIR or DATABASE_URL.
    expect(await createReplayCache(database.db, clock).remember(key, inSeconds(clock, 60))).toBe(false);
  });
});

describeWithRedis('a replay cache in Redis (REDIS_URL), shared by every instance that names it', () => {
  const connections: RedisConnection[] = [];
  const connect = async (url = testRedisUrl!): Promise<RedisConnection> => {
    const connection = connectRedis(url);
    connections.push(connection);
    await connection.ready;
    return connection;
  };
  afterAll(async () => {
    for (const connection of connections) await connection.close();
  });
  const inMs = (ms: number): Date => new Date(Date.now() + ms);

  it('answers true the first time and false for a replay, also at another instance', async () => {
    const [one, two] = [createRedisReplayCache((await connect()).client, systemClock), createRedisReplayCache((await connect()).client, systemClock)];
    const [key, other] = freshKeys(2) as [string, string];
    expect(await one.remember(key, inMs(60_000))).toBe(true);
    expect(await one.remember(key, inMs(60_000))).toBe(false);
    expect(await two.remember(key, inMs(60_000))).toBe(false);
    expect(await two.remember(other, inMs(60_000))).toBe(true);
  });

  it('answers true exactly once per key for 200 concurrent calls on 50 keys over two instances', async () => {
    const instances = [createRedisReplayCache((await connect()).client, systemClock), createRedisReplayCache((await connect()).client, systemClock)];
    const keys = freshKeys(50);
    const answers = await Promise.all(
      Array.from({ length: 200 }, (_, i) => (instances[i % 2] as ReplayCache).remember(keys[Math.floor(i / 4)] as string, inMs(60_000))),
    );
    expect(answers.filter(Boolean)).toHaveLength(50);
  });

  it('forgets a key once its expiry has passed, keeps only hashes, and writes nothing to the table', async () => {
    const connection = await connect();
    const cache = createRedisReplayCache(connection.client, systemClock);
    const [key] = freshKeys(1) as [string];
    const rowsBefore = await countRows();
    expect(await cache.remember(key, inMs(300))).toBe(true);
    expect(await cache.remember(key, inMs(300))).toBe(false);
    const stored = await connection.client.keys(`${REDIS_REPLAY_PREFIX}*`);
    expect(stored.length).toBeGreaterThan(0);
    expect(stored.every((name) => /^gatehouse:replay:[0-9a-f]{64}$/.test(name))).toBe(true);
    await new Promise((resolve) => setTimeout(resolve, 600));
    expect(await cache.remember(key, inMs(60_000))).toBe(true);
    expect(await countRows()).toBe(rowsBefore);
  });

  it('refuses (503) when Redis cannot answer, never accepting unseen', async () => {
    // Nothing listens on port 1: every command fails at once.
    const cache = createRedisReplayCache((await connect('redis://127.0.0.1:1')).client, systemClock);
    await expect(cache.remember(freshKeys(1)[0] as string, inMs(60_000))).rejects.toBeInstanceOf(TemporarilyUnavailable);
  });

  it('createReplayCache uses Redis when it is given a connection', async () => {
    const connection = await connect();
    const [key] = freshKeys(1) as [string];
    const rowsBefore = await countRows();
    expect(await createReplayCache(database.db, systemClock, connection.client).remember(key, inMs(60_000))).toBe(true);
    expect(await createRedisReplayCache(connection.client, systemClock).remember(key, inMs(60_000))).toBe(false);
    expect(await countRows()).toBe(rowsBefore);
  });
});
