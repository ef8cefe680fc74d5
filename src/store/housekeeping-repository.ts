import type { Knex } from 'knex';
import type { Queryable } from './database.js';

/**
 * Deletes rows matching `condition` in batches of `batchSize`, each batch its own statement, so no
 * long lock is held. SKIP LOCKED lets several instances clean at once without waiting on each
 * other. Returns how many rows went.
 */
export async function deleteInBatches(
  db: Queryable,
  target: { table: string; key: string },
  condition: string,
  bindings: readonly Knex.Value[],
  options: { batchSize: number; maxBatches: number },
): Promise<number> {
  let deleted = 0;
  for (let batch = 0; batch < options.maxBatches; batch++) {
    const result = await db.raw<{ rows: unknown[] }>(
      `DELETE FROM ?? WHERE ?? IN (SELECT ?? FROM ?? WHERE ${condition} LIMIT ? FOR UPDATE SKIP LOCKED) RETURNING ??`,
      [target.table, target.key, target.key, target.table, ...bindings, options.batchSize, target.key],
    );
    deleted += result.rows.length;
    if (result.rows.length < options.batchSize) break;
  }
  return deleted;
}
