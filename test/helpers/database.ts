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

const ROOT = resolve(import.meta.dirname, '..', '..');

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

/**
 * A fresh PostgreSQL database of this test's own on the server under test (needs TEST_DATABASE_URL):
 * empty, or a copy of `template`.
 */
export async function createPostgresDatabase(options: { template?: string } = {}): Promise<PostgresDatabase> {
  if (!testDatabaseUrl) throw new Error(`this test needs PostgreSQL: set TEST_DATABASE_URL; guard it with describeWithPostgres`);
  const name = `gatehouse_test_${randomBytes(6).toString('hex')}`;
  const admin = knexFactory({ client: 'pg', connection: testDatabaseUrl, pool: { min: 0, max: 1 } });
  try {
    await admin.raw(options.template ? `CREATE DATABASE ${name} TEMPLATE "${options.template}"` : `CREATE DATABASE ${name}`);
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
  return openPostgresTestDatabase();
}

/** A fresh database with every migration applied. */
export async function createTestDatabase(): Promise<TestDatabase> {
  if (!testDatabaseUrl) return openMigratedPglite();
  return openPostgresTestDatabase({ template: await migratedPostgresTemplate() });
}

/** A new PostgreSQL database (empty, or a copy of `template`), opened; closing it drops it. */
async function openPostgresTestDatabase(options: { template?: string } = {}): Promise<TestDatabase> {
  const postgres = await createPostgresDatabase(options);
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

/** A hash of the migrations (and what else is named): a change to them makes a new snapshot or template. */
function migrationsHash(...also: Buffer[]): string {
  const hash = createHash('sha256');
  for (const part of also) hash.update(part);
  const migrations = join(ROOT, 'migrations');
  for (const name of readdirSync(migrations).sort()) hash.update(name).update(readFileSync(join(migrations, name)));
  return hash.digest('hex').slice(0, 16);
}

// ---------- PostgreSQL: test databases copied from a migrated template ----------

/**
 * The migrations took about 0.45 s of each PostgreSQL test database (several per test file);
 * `CREATE DATABASE … TEMPLATE` copies a migrated one in about the time an empty one takes. The
 * template is made once per run by the first test that needs it, named after the run's own database
 * (TEST_DATABASE_URL) and the migrations, and dropped at the end of the run by
 * test/global-teardown.js (which finds it by this prefix).
 * (Migrations themselves are still run from empty by test/integration/migrations.test.ts.)
 */
function postgresTemplatePrefix(databaseUrl: string): string {
  return `${decodeURIComponent(new URL(databaseUrl).pathname.slice(1))}_tmpl_`;
}

let postgresTemplate: Promise<string> | undefined;

function migratedPostgresTemplate(): Promise<string> {
  postgresTemplate ??= (async () => {
    const url = testDatabaseUrl as string;
    const name = `${postgresTemplatePrefix(url)}${migrationsHash()}`;
    const admin = knexFactory({ client: 'pg', connection: url, pool: { min: 1, max: 1 } });
    try {
      // One test file makes it; the others (other jest workers) wait for it under this lock.
      await admin.raw('SELECT pg_advisory_lock(hashtext(?))', [name]);
      const exists = await admin.raw<{ rows: unknown[] }>('SELECT 1 FROM pg_database WHERE datname = ?', [name]);
      if (exists.rows.length === 0) {
        // Made under another name and renamed once migrated: a half-made template is never used.
        const partial = `${name}_partial`;
        await admin.raw(`DROP DATABASE IF EXISTS "${partial}" WITH (FORCE)`);
        await admin.raw(`CREATE DATABASE "${partial}"`);
        const db = openDatabase({ databaseUrl: withDatabaseName(url, partial) });
        try {
          await migrateToLatest(db);
        } finally {
          await closeDatabase(db);
        }
        await admin.raw(`ALTER DATABASE "${partial}" RENAME TO "${name}"`);
      }
      return name;
    } finally {
      await admin.destroy();
    }
  })();
  return postgresTemplate;
}

// ---------- the embedded database, started from a migrated snapshot ----------

/**
 * A new in-memory PGlite runs initdb and then the migrations: seconds of CPU, paid by every test
 * file (most start several servers). Instead the first one to need it writes a snapshot of a
 * migrated database (as the template a new DATA_DIR starts from is written, but migrated and
 * uncompressed) and every test database starts from it. The file is named after the migrations
 * and the PGlite version, so a change to either makes a new one. (Migrations themselves are still
 * run from empty by test/integration/migrations.test.ts.)
 */
function snapshotPath(): string {
  const version = readFileSync(join(ROOT, 'node_modules', '@electric-sql', 'pglite', 'package.json'));
  return join(tmpdir(), `gatehouse-test-pglite-${migrationsHash(version)}.tar`);
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
