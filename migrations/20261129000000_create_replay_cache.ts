import type { Knex } from 'knex';

/**
 * One-time values already used (DPoP proof jtis, client assertion jtis), shared by every instance,
 * each kept until the proof or assertion it came with could no longer be accepted anyway. `key` is
 * the SHA-256 (hex) of the kind and the value, never the value itself.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('replay_cache', (t) => {
    t.text('key').primary();
    t.timestamp('expires_at', { useTz: true }).notNullable();
    t.index(['expires_at'], 'replay_cache_expires_at_index');
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTableIfExists('replay_cache');
}
