import { createHash, randomBytes } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import knexFactory from 'knex';
import { closeDatabase, embeddedKnex, newEmbeddedPglite, openDatabase, type Database } from '../../src/store/database.js';
import { writeEmbeddedTemplate } from '../../src/store/embedded-template.js';
import { migrateToLatest } from '../../src/store/migrate.js';
import { describeIf, itIf } from './prerequisites.js';

export interface TestDatabase {
  db: Database;
  /** postgres:// URL of this test's own database, when running against PostgreSQL. */
  url: string | undefined;
  close(): Promise<void>;
}

/** The PostgreSQL server under test (TEST_DATABASE_URL), or undefined for embedded PGlite. */
export const testDatabaseUrl = process.env.TEST_DATABASE_URL || undefined;

/** What a test that only PostgreSQL can host needs. */
export const NEEDS_POSTGRES = 'TEST_DATABASE_URL';

/**
 * describe() for behaviour only a PostgreSQL server can show (two processes on one database, faults
 * on the network, a server killed mid-write). Without TEST_DATABASE_URL the group is not registered
 * (its hooks never reach for a server) and is listed at the end of the run as not run here.
 */
export function describeWithPostgres(name: string, body: () => void): void {
  describeIf(testDatabaseUrl !== undefined, name, NEEDS_POSTGRES, body);
}

/** it() that needs PostgreSQL; without TEST_DATABASE_URL not registered, and listed as not run here. */
export function itWithPostgres(name: string, body: () => Promise<void>, timeout?: number): void {
  itIf(testDatabaseUrl !== undefined, name, NEEDS_POSTGRES, body, timeout);
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
  if (!testDatabaseUrl) return openMigratedPglite();
  const database = await createEmptyDatabase();
  await migrateToLatest(database.db);
  return database;
}

// ---------- the embedded database, started from a migrated snapshot ----------

const ROOT = resolve(import.meta.dirname, '..', '..');

/**
 * A new in-memory PGlite runs initdb and then the migrations: seconds of CPU, paid by every test
 * file (most start several servers). Instead the first one to need it writes a snapshot of a
 * migrated database (as the template a new DATA_DIR starts from is written, but migrated and
 * uncompressed) and every test database starts from it. The file is named after the migrations and the PGlite version, so a change
 * to either makes a new one. (Migrations themselves are still run from empty by
 * test/integration/migrations.test.ts.)
 */
function snapshotPath(): string {
  const hash = createHash('sha256');
  hash.update(readFileSync(join(ROOT, 'node_modules', '@electric-sql', 'pglite', 'package.json')));
  const migrations = join(ROOT, 'migrations');
  for (const name of readdirSync(migrations).sort()) hash.update(name).update(readFileSync(join(migrations, name)));
  return join(tmpdir(), `gatehouse-test-pglite-${hash.digest('hex').slice(0, 16)}.tar`);
}

let snapshot: Promise<Blob> | undefined;

function migratedSnapshot(): Promise<Blob> {
  snapshot ??= (async () => {
    const path = snapshotPath();
    if (!existsSync(path)) await writeEmbeddedTemplate(path, { migrated: true, compression: 'none' });
    return new Blob([readFileSync(path)]);
  })();
  return snapshot;
}

async function openMigratedPglite(): Promise<TestDatabase> {
  const pglite = newEmbeddedPglite({ loadDataDir: await migratedSnapshot() });
  // Ready before the test gets it: a test that never queries would otherwise close it mid-start,
  // and PGlite finishing its start after jest tore the environment down breaks the worker.
  await pglite.waitReady;
  const db = embeddedKnex({ pglite });
  return { db, url: undefined, close: () => closeDatabase(db) };
}
