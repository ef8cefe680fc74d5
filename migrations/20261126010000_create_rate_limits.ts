import type { Knex } from 'knex';

/** Counters of rate-limiter-flexible (RateLimiterPostgres), shared by every instance. */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('rate_limits', (t) => {
    t.string('key', 255).primary();
    t.integer('points').notNullable().defaultTo(0);
    // Epoch milliseconds, as the library stores it.
    t.bigInteger('expire');
    t.index(['expire'], 'rate_limits_expire_index');
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTableIfExists('rate_limits');
}
