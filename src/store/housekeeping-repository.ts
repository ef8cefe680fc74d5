import type { Knex } from 'knex';
import type { Queryable } from './database.js';

/**
 * Deletes rows matching `condition` in batches of `batchSize`, each batch its own statement, so no
 * long lock is held. SKIP LOCKED lets several instances clean at once without waiting on each
 * other. Returns how many rows went.
 */
async function deleteInBatches(
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

export interface ExpiredRowsCutoffs {
  now: Date;
  /** Grants expired or revoked, and refresh tokens expired, before this go. */
  deadBefore: Date;
  /** Audit entries older than this go. */
  auditBefore: Date;
}

export interface DeletedRows {
  grants: number;
  refreshTokens: number;
  revokedAccessTokens: number;
  auditEntries: number;
  rateLimitCounters: number;
  replayCacheEntries: number;
  /** Status lists whose every token has expired (with their blocks and revocations). */
  statusLists: number;
}

/** Deletes rows that no longer matter, table by table, in batches. */
export async function deleteExpiredRows(db: Queryable, cutoffs: ExpiredRowsCutoffs, options: { batchSize: number; maxBatches: number }): Promise<DeletedRows> {
  const { now, deadBefore, auditBefore } = cutoffs;
  // Grants first: their refresh tokens go with them (ON DELETE CASCADE).
  const grants = await deleteInBatches(db, { table: 'grants', key: 'id' }, 'expires_at < ? OR revoked_at < ?', [deadBefore, deadBefore], options);
  const refreshTokens = await deleteInBatches(db, { table: 'refresh_tokens', key: 'token_hash' }, 'expires_at < ?', [deadBefore], options);
  const revokedAccessTokens = await deleteInBatches(db, { table: 'revoked_access_tokens', key: 'jti' }, 'expires_at <= ?', [now], options);
  const auditEntries = await deleteInBatches(db, { table: 'audit_log', key: 'id' }, 'at < ?', [auditBefore], options);
  // rate-limiter-flexible stores expiry as epoch milliseconds.
  const rateLimitCounters = await deleteInBatches(db, { table: 'rate_limits', key: 'key' }, 'expire < ?', [now.getTime()], options);
  // Used jtis of DPoP proofs and client assertions that could no longer be accepted anyway.
  const replayCacheEntries = await deleteInBatches(db, { table: 'replay_cache', key: 'key' }, 'expires_at <= ?', [now], options);
  // Status lists no token can point at any more: their URIs answer 404 from now on.
  const statusLists = await deleteInBatches(db, { table: 'status_lists', key: 'id' }, 'expires_at <= ?', [now], options);
  return { grants, refreshTokens, revokedAccessTokens, auditEntries, rateLimitCounters, replayCacheEntries, statusLists };
}
