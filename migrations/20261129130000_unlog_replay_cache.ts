import type { Knex } from 'knex';

/**
 * The replay cache without write-ahead log: a claimed jti is one row that lives a minute or so, and
 * logging it cost PostgreSQL a third more CPU per claim or more (bench/, issue 14). The trade, written
 * down in docs/security.md: PostgreSQL empties an unlogged table when it recovers from a crash and
 * does not copy it to standbys, so after a database crash or a failover a proof or assertion seen
 * in the minute before could be accepted once more. A clean restart keeps the table.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw('ALTER TABLE replay_cache SET UNLOGGED');
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('ALTER TABLE replay_cache SET LOGGED');
}
