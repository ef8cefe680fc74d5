import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('clients', (t) => {
    t.text('id').primary();
    // SHA-256 of the secret; null for public clients.
    t.text('secret_hash');
    t.specificType('grant_types', 'text[]').notNullable();
    t.specificType('scopes', 'text[]').notNullable();
    t.text('audience');
    t.timestamp('created_at', { useTz: true }).notNullable();
    t.timestamp('updated_at', { useTz: true }).notNullable();
  });

  await knex.schema.createTable('users', (t) => {
    t.uuid('id').primary();
    t.text('username').notNullable().unique();
    t.text('password_hash').notNullable();
    t.text('email');
    t.text('name');
    t.specificType('scopes', 'text[]').notNullable();
    t.boolean('disabled').notNullable().defaultTo(false);
    t.timestamp('created_at', { useTz: true }).notNullable();
    t.timestamp('updated_at', { useTz: true }).notNullable();
  });

  // One row per token family: what a refresh token chain may grant, and whether it still may.
  await knex.schema.createTable('grants', (t) => {
    t.uuid('id').primary();
    t.text('client_id').notNullable().references('id').inTable('clients').onDelete('CASCADE');
    t.uuid('user_id').references('id').inTable('users').onDelete('CASCADE');
    t.specificType('scopes', 'text[]').notNullable();
    t.timestamp('created_at', { useTz: true }).notNullable();
    t.timestamp('expires_at', { useTz: true }).notNullable();
    t.timestamp('revoked_at', { useTz: true });
    t.text('revoked_reason');
    t.index(['user_id'], 'grants_user_id_index');
    t.index(['client_id'], 'grants_client_id_index');
  });

  await knex.schema.createTable('refresh_tokens', (t) => {
    // SHA-256 (hex) of the token; the token itself is never stored.
    t.text('token_hash').primary();
    t.uuid('grant_id').notNullable().references('id').inTable('grants').onDelete('CASCADE');
    t.text('parent_hash');
    t.timestamp('created_at', { useTz: true }).notNullable();
    t.timestamp('expires_at', { useTz: true }).notNullable();
    t.timestamp('used_at', { useTz: true });
    t.index(['grant_id'], 'refresh_tokens_grant_id_index');
    t.index(['parent_hash'], 'refresh_tokens_parent_hash_index');
  });

  await knex.schema.createTable('signing_keys', (t) => {
    t.text('kid').primary();
    t.text('state').notNullable();
    t.jsonb('public_jwk').notNullable();
    // AES-256-GCM envelope of the PKCS#8 private key.
    t.text('private_key_encrypted').notNullable();
    t.timestamp('created_at', { useTz: true }).notNullable();
    t.timestamp('activated_at', { useTz: true });
    t.timestamp('retired_at', { useTz: true });
    // A retired key stays published until every token it signed has expired.
    t.timestamp('remove_after', { useTz: true });
  });
  await knex.raw(`ALTER TABLE signing_keys ADD CONSTRAINT signing_keys_state_check CHECK (state IN ('next', 'current', 'retired'))`);
  // At most one current and one next key, enforced by the database itself.
  await knex.raw(`CREATE UNIQUE INDEX signing_keys_one_current ON signing_keys (state) WHERE state = 'current'`);
  await knex.raw(`CREATE UNIQUE INDEX signing_keys_one_next ON signing_keys (state) WHERE state = 'next'`);

  // One row that instances lock (SELECT … FOR UPDATE) to decide a rotation: exactly one rotates.
  await knex.schema.createTable('key_rotation_lock', (t) => {
    t.integer('id').primary();
  });
  await knex('key_rotation_lock').insert({ id: 1 });

  // Access tokens revoked one by one (by jti), kept only until they would have expired anyway.
  await knex.schema.createTable('revoked_access_tokens', (t) => {
    t.uuid('jti').primary();
    t.timestamp('expires_at', { useTz: true }).notNullable();
    t.index(['expires_at'], 'revoked_access_tokens_expires_at_index');
  });

  await knex.schema.createTable('audit_log', (t) => {
    t.bigIncrements('id').primary();
    t.timestamp('at', { useTz: true }).notNullable();
    t.text('actor').notNullable();
    t.text('action').notNullable();
    t.jsonb('details').notNullable().defaultTo('{}');
    t.integer('count');
    t.index(['action', 'id'], 'audit_log_action_index');
  });
}

export async function down(knex: Knex): Promise<void> {
  for (const table of ['audit_log', 'revoked_access_tokens', 'key_rotation_lock', 'signing_keys', 'refresh_tokens', 'grants', 'users', 'clients']) {
    await knex.schema.dropTableIfExists(table);
  }
}
