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

/** Appended to the name of a test or group that is skipped because no PostgreSQL was given. */
export const NEEDS_POSTGRES = '(needs TEST_DATABASE_URL)';

/**
 * describe() for behaviour only a PostgreSQL server can show (two processes on one database, faults
 * on the network, a server killed mid-write). Without TEST_DATABASE_URL the group is reported as
 * skipped, with the reason in its name; its hooks do not run, so nothing reaches for a server.
 */
export function describeWithPostgres(name: string, body: () => void): void {
  if (testDatabaseUrl) describe(name, body);
  else describe.skip(`${name} ${NEEDS_POSTGRES}`, body);
}

/** it() that needs PostgreSQL; skipped, with the reason in its name, without TEST_DATABASE_URL. */
export function itWithPostgres(name: string, body: () => Promise<void>, timeout?: number): void {
  if (testDatabaseUrl) it(name, body, timeout);
  else it.skip(`${name} ${NEEDS_POSTGRES}`, body, timeout);
}

export function withDatabaseName(url: string, name: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${name}`;
  return parsed.toString();
}

export interface PostgresDatabase {
  url: string;
  /** Drops this database (and only it). */
  drop(): Promise<void>;
}

/** A fresh, empty PostgreSQL database of this test's own on the server under test (needs TEST_DATABASE_URL). */
export async function createPostgresDatabase(): Promise<PostgresDatabase> {
  if (!testDatabaseUrl) throw new Error(`this test needs PostgreSQL: set TEST_DATABASE_URL; guard it with describeWithPostgres`);
  const name = `gatehouse_test_${randomBytes(6).toString('hex')}`;
  const admin = knexFactory({ client: 'pg', connection: testDatabaseUrl, pool: { min: 0, max: 1 } });
  try {
    await admin.raw(`CREATE DATABASE ${name}`);
  } catch (error) {
    await admin.destroy();
    throw error;
  }
  return {
    url: withDatabaseName(testDatabaseUrl, name),
    async drop() {
      try {
        await admin.raw(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } finally {
        await admin.destroy();
      }
    },
  };
}

/** A fresh, empty database (not migrated). PostgreSQL: a new database; otherwise in-memory PGlite. */
export async function createEmptyDatabase(): Promise<TestDatabase> {
  if (!testDatabaseUrl) {
    const db = openDatabase({});
    return { db, url: undefined, close: () => closeDatabase(db) };
  }
  const postgres = await createPostgresDatabase();
  const db = openDatabase({ databaseUrl: postgres.url });
  return {
    db,
    url: postgres.url,
    close: async () => {
      try {
        await closeDatabase(db);
      } finally {
        await postgres.drop();
      }
    },
  };
}

/** A fresh database with every migration applied. */
export async function createTestDatabase(): Promise<TestDatabase> {
  const database = await createEmptyDatabase();
  await migrateToLatest(database.db);
  return database;
}
