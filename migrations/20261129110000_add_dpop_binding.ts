import type { Knex } from 'knex';

/**
 * DPoP (RFC 9449): `clients.dpop_bound_access_tokens` (RFC 9449 §5.2 client metadata: every token
 * request of the client must carry a proof) and `grants.dpop_jkt`, the RFC 7638 thumbprint of the
 * key a public client's grant is bound to (every refresh must carry a proof by that key); null when
 * the grant is not bound.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('clients', (t) => {
    t.boolean('dpop_bound_access_tokens').notNullable().defaultTo(false);
  });
  await knex.schema.alterTable('grants', (t) => {
    t.text('dpop_jkt').nullable();
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('grants', (t) => {
    t.dropColumn('dpop_jkt');
  });
  await knex.schema.alterTable('clients', (t) => {
    t.dropColumn('dpop_bound_access_tokens');
  });
}
