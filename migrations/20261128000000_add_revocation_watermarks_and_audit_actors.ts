import type { Knex } from 'knex';

/**
 * Revocation by client ends every access token issued to it before that moment, with or without a
 * grant: `tokens_valid_after` is that moment. The audit log names its actor in separate fields
 * (type, id, and the client a user acted through) instead of one ambiguous string.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('clients', (t) => {
    t.timestamp('tokens_valid_after', { useTz: true });
  });

  await knex.schema.alterTable('audit_log', (t) => {
    t.text('actor_type');
    t.text('actor_id');
    t.text('actor_client_id');
  });
  // The old strings: 'cli', 'client:<id>', 'admin:<client_id>' or 'admin:<client_id>/<username>'.
  await knex.raw(`UPDATE audit_log SET actor_type = 'cli' WHERE actor = 'cli'`);
  await knex.raw(`UPDATE audit_log SET actor_type = 'client', actor_id = substr(actor, 8) WHERE actor LIKE 'client:%'`);
  await knex.raw(
    `UPDATE audit_log SET actor_type = 'client', actor_id = substr(actor, 7) WHERE actor LIKE 'admin:%' AND position('/' IN substr(actor, 7)) = 0`,
  );
  await knex.raw(
    `UPDATE audit_log a SET actor_type = 'user', actor_client_id = split_part(substr(a.actor, 7), '/', 1),
       actor_id = (SELECT u.id::text FROM users u WHERE u.username = substr(a.actor, 7 + position('/' IN substr(a.actor, 7))))
     WHERE a.actor LIKE 'admin:%/%'`,
  );
  await knex.raw(`UPDATE audit_log SET actor_type = 'unknown' WHERE actor_type IS NULL`);
  await knex.raw(`ALTER TABLE audit_log ALTER COLUMN actor_type SET NOT NULL`);
  await knex.raw(`ALTER TABLE audit_log ADD CONSTRAINT audit_log_actor_type_check CHECK (actor_type IN ('cli', 'system', 'client', 'user', 'unknown'))`);
  await knex.schema.alterTable('audit_log', (t) => {
    t.dropColumn('actor');
    t.index(['actor_type', 'actor_id', 'id'], 'audit_log_actor_index');
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('audit_log', (t) => {
    t.text('actor');
  });
  await knex.raw(
    `UPDATE audit_log a SET actor = CASE a.actor_type
       WHEN 'cli' THEN 'cli'
       WHEN 'client' THEN 'client:' || a.actor_id
       WHEN 'user' THEN 'admin:' || coalesce(a.actor_client_id, '') || '/' || coalesce((SELECT u.username FROM users u WHERE u.id::text = a.actor_id), a.actor_id, '')
       ELSE a.actor_type END`,
  );
  await knex.raw(`ALTER TABLE audit_log ALTER COLUMN actor SET NOT NULL`);
  await knex.schema.alterTable('audit_log', (t) => {
    t.dropIndex(['actor_type', 'actor_id', 'id'], 'audit_log_actor_index');
    t.dropColumn('actor_type');
    t.dropColumn('actor_id');
    t.dropColumn('actor_client_id');
  });
  await knex.schema.alterTable('clients', (t) => {
    t.dropColumn('tokens_valid_after');
  });
}
