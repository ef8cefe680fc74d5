import type { Knex } from 'knex';
import * as createCoreTables from '../../migrations/20261126000000_create_core_tables.js';
import * as createRateLimits from '../../migrations/20261126010000_create_rate_limits.js';

interface Migration {
  up(knex: Knex): Promise<void>;
  down(knex: Knex): Promise<void>;
}

/** Listed here rather than globbed, so the same list works compiled and under ts-jest. */
const MIGRATIONS: Record<string, Migration> = {
  '20261126000000_create_core_tables': createCoreTables,
  '20261126010000_create_rate_limits': createRateLimits,
};

const migrationSource: Knex.MigrationSource<string> = {
  getMigrations: async () => Object.keys(MIGRATIONS).sort(),
  getMigrationName: (name) => name,
  getMigration: async (name) => MIGRATIONS[name] as Migration,
};

const options = { migrationSource, tableName: 'knex_migrations' };

export async function migrateToLatest(db: Knex): Promise<string[]> {
  const [, applied] = (await db.migrate.latest(options)) as [number, string[]];
  return applied;
}

export async function rollbackAll(db: Knex): Promise<void> {
  await db.migrate.rollback(options, true);
}

/** True when every known migration has been applied (readiness). */
export async function migrationsAreCurrent(db: Knex): Promise<boolean> {
  const [, pending] = (await db.migrate.list(options)) as [unknown[], unknown[]];
  return pending.length === 0;
}
