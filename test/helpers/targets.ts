import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createAdminDeps } from '../../src/admin-deps.js';
import { testConfig } from './server.js';
import { CLI_ACTOR } from '../../src/services/actor.js';
import { createClient, type ClientInput } from '../../src/services/clients.js';
import { createUser, type UserInput } from '../../src/services/users.js';
import { closeDatabase, openDatabase } from '../../src/store/database.js';
import { migrateToLatest } from '../../src/store/migrate.js';
import { createPostgresDatabase, describeWithPostgres, type TestDatabase } from './database.js';
import { TEST_KEY_ENCRYPTION_SECRET } from './server.js';

/**
 * The database a spawned server or CLI works on, described once: the environment that points a
 * process at it, and a way to open the same database in the test's own process (to seed it, or to
 * look at what a process wrote).
 */
export interface ProcessTarget {
  name: string;
  /** DATA_DIR, or DATABASE_URL and KEY_ENCRYPTION_SECRET. */
  env: Record<string, string>;
  /**
   * Opens the same database in this process. The embedded one admits one process at a time: close
   * it before a server or CLI runs on it.
   */
  open(): Promise<{ database: TestDatabase; keyEncryptionSecret: string }>;
  dispose(): Promise<void>;
}

/** A fresh embedded database: an empty DATA_DIR in a temporary directory. */
export function embeddedTarget(): ProcessTarget {
  const dataDir = mkdtempSync(join(tmpdir(), 'gatehouse-test-'));
  return {
    name: 'embedded (DATA_DIR)',
    env: { DATA_DIR: dataDir },
    async open() {
      const db = openDatabase({ dataDir });
      // Started now: knex closes PGlite only if it ever queried it (see createTestDatabase).
      await db.raw('select 1');
      // Generated into DATA_DIR by the first server or CLI that ran on it (none before that: an
      // empty string, which no configuration accepts).
      const secretFile = join(dataDir, 'key-encryption-secret');
      const keyEncryptionSecret = existsSync(secretFile) ? readFileSync(secretFile, 'utf8').trim() : '';
      return { database: { db, url: undefined, close: () => closeDatabase(db) }, keyEncryptionSecret };
    },
    async dispose() {
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** A fresh database on the PostgreSQL server under test (needs TEST_DATABASE_URL). */
export async function postgresTarget(): Promise<ProcessTarget> {
  const postgres = await createPostgresDatabase();
  return {
    name: 'PostgreSQL (DATABASE_URL)',
    env: { DATABASE_URL: postgres.url, KEY_ENCRYPTION_SECRET: TEST_KEY_ENCRYPTION_SECRET },
    async open() {
      const db = openDatabase({ databaseUrl: postgres.url });
      return { database: { db, url: postgres.url, close: () => closeDatabase(db) }, keyEncryptionSecret: TEST_KEY_ENCRYPTION_SECRET };
    },
    dispose: () => postgres.drop(),
  };
}

interface TargetKind {
  name: string;
  create: () => Promise<ProcessTarget>;
  needsPostgres: boolean;
}

/** Both kinds of database a process can run on. */
export const targetKinds: readonly TargetKind[] = [
  { name: 'embedded (DATA_DIR)', create: async () => embeddedTarget(), needsPostgres: false },
  { name: 'PostgreSQL (DATABASE_URL)', create: postgresTarget, needsPostgres: true },
];

/**
 * One describe per kind of database, `$name` in the title standing for it: always the embedded one,
 * and PostgreSQL when TEST_DATABASE_URL is set (otherwise reported as skipped, with the reason).
 */
export function describeEachTarget(title: string, body: (kind: TargetKind) => void): void {
  for (const kind of targetKinds) {
    const name = title.replace('$name', kind.name);
    if (kind.needsPostgres) describeWithPostgres(name, () => body(kind));
    else describe(name, () => body(kind));
  }
}

export interface Seed {
  /** Defaults as TestServer.createClient: all three grant types, scopes read and write. */
  clients?: (Partial<ClientInput> & { id: string })[];
  users?: (Partial<UserInput> & { username: string; password: string })[];
}

/**
 * Migrates the target's database and creates clients and users in it, from this process, as the
 * CLI would; closes it again before any server starts on it. Returns each client's secret by id.
 */
export async function seedTarget(target: ProcessTarget, seed: Seed): Promise<Record<string, string | null>> {
  const { database } = await target.open();
  const secrets: Record<string, string | null> = {};
  try {
    await migrateToLatest(database.db);
    const deps = createAdminDeps(testConfig(), database.db);
    for (const input of seed.clients ?? []) {
      const { client, clientSecret } = await createClient(
        deps,
        { grantTypes: ['password', 'refresh_token', 'client_credentials'], scopes: ['read', 'write'], ...input },
        CLI_ACTOR,
      );
      secrets[client.id] = clientSecret;
    }
    for (const input of seed.users ?? []) {
      await createUser(deps, { scopes: ['read', 'write'], ...input }, CLI_ACTOR);
    }
  } finally {
    await database.close();
  }
  return secrets;
}
