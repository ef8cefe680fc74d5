import { createKeyService } from '../../src/keys/policy.js';
import { CLI_ACTOR } from '../../src/services/actor.js';
import type { KeyService } from '../../src/keys/key-service.js';
import { closeDatabase, openDatabase, type Database } from '../../src/store/database.js';
import { listSigningKeys } from '../../src/store/signing-keys-repository.js';
import { TestClock } from '../helpers/clock.js';
import { createTestDatabase, testDatabaseUrl, type TestDatabase } from '../helpers/database.js';
import { activations, gaps } from '../helpers/keys.js';
import { testConfig } from '../helpers/server.js';

// Two server processes on one PostgreSQL database: test/system/two-server-processes.test.ts.

describe(
  testDatabaseUrl
    ? 'two KeyService instances with separate connection pools on one PostgreSQL database rotate exactly once per interval and sign with the same kid'
    : 'two KeyService instances on one embedded database rotate exactly once per interval and sign with the same kid',
  () => {
    const ROTATION_INTERVAL = 3600;
    const clock = new TestClock();
    let database: TestDatabase;
    let secondDb: Database;
    let a: KeyService;
    let b: KeyService;

    beforeAll(async () => {
      database = await createTestDatabase();
      // On PostgreSQL the second instance has its own pool, so the row lock is what serialises them.
      secondDb = database.url ? openDatabase({ databaseUrl: database.url }) : database.db;
      // A day-long token lifetime keeps every retired key in the table, so each rotation stays countable.
      const config = testConfig({ KEY_ROTATION_INTERVAL: `${ROTATION_INTERVAL}s`, KEY_PUBLISH_AHEAD: '600s', ACCESS_TOKEN_TTL: '1d' });
      a = createKeyService(config, database.db, clock);
      b = createKeyService(config, secondDb, clock);
    });
    afterAll(async () => {
      if (secondDb && secondDb !== database.db) await closeDatabase(secondDb);
      await database?.close();
    });

    it('creates the first keys once when both start together on an empty table', async () => {
      await Promise.all([a.initialize(), b.initialize()]);
      const keys = await listSigningKeys(database.db);
      expect(keys.map((k) => k.state).sort()).toEqual(['current', 'next']);
      expect(a.signingKey().kid).toBe(b.signingKey().kid);
      expect(a.jwks()).toEqual(b.jwks());
    });

    it('makes exactly one rotation per interval over six simulated hours of concurrent ticks', async () => {
      const start = activations(await listSigningKeys(database.db))[0]!;
      for (let step = 1; step <= 18; step++) {
        clock.advance(ROTATION_INTERVAL / 3);
        // Both instances, twice each, at the same instant: only one may act.
        await Promise.all([a.tick(), b.tick(), a.tick(), b.tick()]);
        const keys = await listSigningKeys(database.db);
        const current = keys.find((k) => k.state === 'current')!;
        expect({ step, a: a.signingKey().kid, b: b.signingKey().kid }).toEqual({ step, a: current.kid, b: current.kid });
        expect(keys.filter((k) => k.state === 'next')).toHaveLength(1);
        // Same key set, same body, same ETag: conditional requests work behind a load balancer.
        expect(a.jwks()).toEqual(b.jwks());
      }
      const keys = await listSigningKeys(database.db);
      const times = activations(keys);
      // The first key and one successor per hour, each exactly one interval after the last.
      expect(times).toEqual(Array.from({ length: 7 }, (_, i) => start + i * ROTATION_INTERVAL * 1000));
      // No key was created and thrown away by a losing instance: 7 that signed and one next.
      expect(keys).toHaveLength(8);
      expect(gaps(times).every((gap) => gap === ROTATION_INTERVAL * 1000)).toBe(true);
    });

    it('follows an on-demand rotation made by the other instance on its next refresh', async () => {
      const result = await a.rotateNow({ actor: CLI_ACTOR });
      expect(a.signingKey().kid).toBe(result.current);
      await b.refresh();
      expect(b.signingKey().kid).toBe(result.current);
    });
  },
);
