import { migrateToLatest, migrationsAreCurrent, rollbackAll } from '../../src/store/migrate.js';
import { createEmptyDatabase, type TestDatabase } from '../helpers/database.js';

let database: TestDatabase;

beforeAll(async () => {
  database = await createEmptyDatabase();
});
afterAll(() => database.close());

async function tablesInPublicSchema(): Promise<string[]> {
  const result = await database.db.raw<{ rows: { table_name: string }[] }>(
    "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' AND table_name NOT LIKE 'knex_migrations%' ORDER BY 1",
  );
  return result.rows.map((row) => row.table_name);
}

describe('migrations run down and up again on a fresh database', () => {
  it('applies every migration, rolls them all back to an empty schema, and applies them again', async () => {
    expect(await migrationsAreCurrent(database.db)).toBe(false);
    const applied = await migrateToLatest(database.db);
    expect(applied.length).toBeGreaterThanOrEqual(1);
    expect(await migrationsAreCurrent(database.db)).toBe(true);
    const tables = await tablesInPublicSchema();
    expect(tables).toEqual(expect.arrayContaining(['clients', 'users', 'grants', 'refresh_tokens', 'signing_keys', 'audit_log', 'replay_cache']));

    await rollbackAll(database.db);
    expect(await tablesInPublicSchema()).toEqual([]);
    expect(await migrationsAreCurrent(database.db)).toBe(false);

    expect(await migrateToLatest(database.db)).toEqual(applied);
    expect(await tablesInPublicSchema()).toEqual(tables);
    expect(await migrateToLatest(database.db)).toEqual([]);
  });

  it('only reads when nothing is pending: a start on an up-to-date database writes nothing, not even the migration lock', async () => {
    expect(await migrationsAreCurrent(database.db)).toBe(true);
    const statements: string[] = [];
    const record = (query: { sql: string }) => statements.push(query.sql);
    database.db.on('query', record);
    try {
      expect(await migrateToLatest(database.db)).toEqual([]);
    } finally {
      database.db.off('query', record);
    }
    expect(statements.length).toBeGreaterThan(0);
    expect(statements.filter((sql) => !/^\s*select\b/i.test(sql))).toEqual([]);
  });

  it('leaves a schema that stores and enforces what the code relies on', async () => {
    const db = database.db;
    const now = new Date();
    await db('clients').insert({ id: 'app', secret_hash: null, grant_types: ['password'], scopes: ['read'], audience: null, created_at: now, updated_at: now });
    await expect(
      db('clients').insert({ id: 'app', secret_hash: null, grant_types: ['password'], scopes: ['read'], audience: null, created_at: now, updated_at: now }),
    ).rejects.toThrow();
    // At most one current signing key, enforced by the database.
    const key = (kid: string) => ({ kid, state: 'current', public_jwk: JSON.stringify({ kid }), private_key_encrypted: 'x', created_at: now });
    await db('signing_keys').insert(key('one'));
    await expect(db('signing_keys').insert(key('two'))).rejects.toThrow();
    await expect(db('signing_keys').insert({ ...key('three'), state: 'bogus' })).rejects.toThrow();
  });

  it('keeps the replay cache out of the write-ahead log (an unlogged table: cheaper claims, emptied by crash recovery)', async () => {
    const result = await database.db.raw<{ rows: { relpersistence: string }[] }>("SELECT relpersistence FROM pg_class WHERE relname = 'replay_cache'");
    expect(result.rows).toEqual([{ relpersistence: 'u' }]);
  });
});
