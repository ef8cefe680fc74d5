import { randomBytes } from 'node:crypto';
import knexFactory from 'knex';
import { closeDatabase, openDatabase, type Database } from '../../src/store/database.js';
import { migrateToLatest } from '../../src/store/migrate.js';

export interface TestDatabase {
  db: Database;
  /** postgres:// URL of this test's own database, when running against PostgreSQL. */
  url: string | undefined;
  close(): Promise<void>;
}

/** The PostgreSQL server under test (TEST_DATABASE_URL), or undefined for embedded PGlite. */
export const testDatabaseUrl = process.env.TEST_DATABASE_URL || undefined;

export function withDatabaseName(url: string, name: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${name}`;
  return parsed.toString();
}

/** A fresh, empty database (not migrated). PostgreSQL: a new database; otherwise in-memory PGlite. */
export async function createEmptyDatabase(): Promise<TestDatabase> {
  if (!testDatabaseUrl) {
    const db = openDatabase({});
    return { db, url: undefined, close: () => closeDatabase(db) };
  }
  const name = `gatehouse_test_${randomBytes(6).toString('hex')}`;
  const admin = knexFactory({ client: 'pg', connection: testDatabaseUrl, pool: { min: 0, max: 1 } });
  await admin.raw(`CREATE DATABASE ${name}`);
  const url = withDatabaseName(testDatabaseUrl, name);
  const db = openDatabase({ databaseUrl: url });
  return {
    db,
    url,
    close: async () => {
      await closeDatabase(db);
      await admin.raw(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await admin.destroy();
    },
  };
}

/** A fresh database with every migration applied. */
export async function createTestDatabase(): Promise<TestDatabase> {
  const database = await createEmptyDatabase();
  await migrateToLatest(database.db);
  return database;
}
