import type { Knex } from 'knex';

/**
 * RFC 8707 resources (an API's identifier and the scopes it defines), the resources each client may
 * ask tokens for and each grant was given, and RFC 7523 client authentication: a client's method
 * (`client_secret_basic` for a client with a secret, `none` for a public one, `private_key_jwt`) and
 * its keys (a JWK Set, or the URL where it publishes one).
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('resources', (t) => {
    t.text('uri').primary();
    t.specificType('scopes', 'text[]').notNullable();
    t.timestamp('created_at', { useTz: true }).notNullable();
    t.timestamp('updated_at', { useTz: true }).notNullable();
  });
  await knex.schema.alterTable('clients', (t) => {
    t.specificType('resources', 'text[]').notNullable().defaultTo('{}');
    t.text('token_endpoint_auth_method').notNullable().defaultTo('client_secret_basic');
    t.jsonb('jwks');
    t.text('jwks_uri');
  });
  await knex.raw(`UPDATE clients SET token_endpoint_auth_method = 'none' WHERE secret_hash IS NULL`);
  await knex.raw(
    `ALTER TABLE clients ADD CONSTRAINT clients_token_endpoint_auth_method_check CHECK (token_endpoint_auth_method IN ('client_secret_basic', 'none', 'private_key_jwt'))`,
  );
  await knex.schema.alterTable('grants', (t) => {
    t.specificType('resources', 'text[]').notNullable().defaultTo('{}');
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('grants', (t) => {
    t.dropColumn('resources');
  });
  await knex.raw('ALTER TABLE clients DROP CONSTRAINT IF EXISTS clients_token_endpoint_auth_method_check');
  await knex.schema.alterTable('clients', (t) => {
    t.dropColumn('jwks_uri');
    t.dropColumn('jwks');
    t.dropColumn('token_endpoint_auth_method');
    t.dropColumn('resources');
  });
  await knex.schema.dropTableIfExists('resources');
}
