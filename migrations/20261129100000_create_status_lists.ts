import type { Knex } from 'knex';

/**
 * Token Status List (draft-ietf-oauth-status-list). A list is 2^20 one-bit entries; instances lease
 * blocks of indices from the newest open list and hand them out from memory, so issuing a token
 * writes nothing new. A revoked bit is a row of `status_list_revocations` (or, for a revocation by
 * client, a whole block marked revoked); every flip bumps the list's `version`, which each
 * instance compares before serving its cached, signed list. The index of every access token a
 * grant issued is kept on the row issuing it already writes: the grant (its first token) and each
 * refresh token (the token issued with it).
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('status_lists', (t) => {
    // Never reused (a sequence): a stale reference can never name a newer list.
    t.increments('id').primary();
    t.integer('size').notNullable();
    // Indices below this have been leased; a list is never refilled.
    t.integer('next_free').notNullable().defaultTo(0);
    t.bigInteger('version').notNullable().defaultTo(0);
    t.timestamp('created_at', { useTz: true }).notNullable();
    // When the last token that may hold one of its indices has expired, plus the ttl.
    t.timestamp('expires_at', { useTz: true }).notNullable();
    t.index(['expires_at'], 'status_lists_expires_at_index');
  });

  await knex.schema.createTable('status_list_blocks', (t) => {
    t.integer('list_id').notNullable().references('id').inTable('status_lists').onDelete('CASCADE');
    t.integer('first_idx').notNullable();
    t.integer('count').notNullable();
    // The client whose tokens take their indices from this block (no foreign key: a deleted
    // client's blocks must stay, revoked, until their tokens have expired).
    t.text('client_id').notNullable();
    t.timestamp('leased_at', { useTz: true }).notNullable();
    // Set by a revocation by client: every index of the block reads 1.
    t.timestamp('revoked_at', { useTz: true });
    t.primary(['list_id', 'first_idx']);
    t.index(['client_id'], 'status_list_blocks_client_id_index');
  });

  await knex.schema.createTable('status_list_revocations', (t) => {
    t.integer('list_id').notNullable().references('id').inTable('status_lists').onDelete('CASCADE');
    t.integer('idx').notNullable();
    t.primary(['list_id', 'idx']);
  });

  for (const table of ['grants', 'refresh_tokens']) {
    await knex.schema.alterTable(table, (t) => {
      t.integer('status_list_id');
      t.integer('status_idx');
    });
  }
}

export async function down(knex: Knex): Promise<void> {
  for (const table of ['grants', 'refresh_tokens']) {
    await knex.schema.alterTable(table, (t) => {
      t.dropColumn('status_list_id');
      t.dropColumn('status_idx');
    });
  }
  for (const table of ['status_list_revocations', 'status_list_blocks', 'status_lists']) {
    await knex.schema.dropTableIfExists(table);
  }
}
