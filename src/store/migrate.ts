import type { Knex } from 'knex';
import * as createCoreTables from '../../migrations/20261126000000_create_core_tables.js';
import * as createRateLimits from '../../migrations/20261126010000_create_rate_limits.js';
import * as addRevocationWatermarks from '../../migrations/20261128000000_add_revocation_watermarks_and_audit_actors.js';
import * as createReplayCache from '../../migrations/20261129000000_create_replay_cache.js';
import * as addDpopBinding from '../../migrations/20261129110000_add_dpop_binding.js';
import * as createStatusLists from '../../migrations/20261129100000_create_status_lists.js';
import * as createResourcesAndClientKeys from '../../migrations/20261129120000_create_resources_and_client_keys.js';
import * as unlogReplayCache from '../../migrations/20261129130000_unlog_replay_cache.js';

interface Migration {
  up(knex: Knex): Promise<void>;
  down(knex: Knex): Promise<void>;
}

/** Listed here rather than globbed, so the same list works compiled and under ts-jest. */
const MIGRATIONS: Record<string, Migration> = {
  '20261126000000_create_core_tables': createCoreTables,
  '20261126010000_create_rate_limits': createRateLimits,
  '20261128000000_add_revocation_watermarks_and_audit_actors': addRevocationWatermarks,
  '20261129000000_create_replay_cache': createReplayCache,
  '20261129110000_add_dpop_binding': addDpopBinding,
  '20261129100000_create_status_lists': createStatusLists,
  '20261129120000_create_resources_and_client_keys': createResourcesAndClientKeys,
  '20261129130000_unlog_replay_cache': unlogReplayCache,
};

const migrationSource: Knex.MigrationSource<string> = {
  getMigrations: async () => Object.keys(MIGRATIONS).sort(),
  getMigrationName: (name) => name,
  getMigration: async (name) => MIGRATIONS[name] as Migration,
};

const options = { migrationSource, tableName: 'knex_migrations' };

/**
 * Applies pending migrations. Two instances starting at once on a new database race to create
 * knex's bookkeeping tables (or find the migration lock taken): the loser waits and tries again.
 * Nearly every start (of a server, of each CLI command) finds nothing pending, which is read first:
 * knex's latest() would take and release its lock in a write transaction of nine more statements
 * even then, and instances restarted together would queue for that lock (250 ms and more each).
 */
export async function migrateToLatest(db: Knex, attempts = 5): Promise<string[]> {
  for (let attempt = 1; ; attempt++) {
    try {
      if (await migrationsAreCurrent(db)) return [];
      const [, applied] = (await db.migrate.latest(options)) as [number, string[]];
      return applied;
    } catch (error) {
      const { code, name, message } = error as { code?: string; name?: string; message?: string };
      // 42P07 duplicate table, 42710 duplicate object (the table's row type), 23505 unique violation.
      const raced = ['42P07', '42710', '23505'].includes(code ?? '') || name === 'MigrationLocked' || /already locked/i.test(message ?? '');
      if (!raced || attempt >= attempts) throw error;
      await new Promise((resolve) => setTimeout(resolve, 250 * attempt));
    }
  }
}

export async function rollbackAll(db: Knex): Promise<void> {
  await db.migrate.rollback(options, true);
}

/** True when every known migration has been applied (readiness). */
export async function migrationsAreCurrent(db: Knex): Promise<boolean> {
  const [, pending] = (await db.migrate.list(options)) as [unknown[], unknown[]];
  return pending.length === 0;
}
