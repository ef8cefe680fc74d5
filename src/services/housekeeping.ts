import type { Database } from '../store/database.js';
import { deleteInBatches } from '../store/housekeeping-repository.js';

/**
 * Dead rows kept this long after they stop mattering: a used refresh token of a revoked or expired
 * family still answers "reuse" for a day, which keeps the audit trail readable.
 */
export const KEEP_DEAD_ROWS_SECONDS = 24 * 3600;

export interface CleanupResult {
  grants: number;
  refreshTokens: number;
  revokedAccessTokens: number;
  auditEntries: number;
  rateLimitCounters: number;
  replayCacheEntries: number;
}

/**
 * One pass of periodic clean-up: expired or revoked grants (their refresh tokens go with them),
 * expired refresh tokens, deny-list entries of access tokens that have expired anyway, and audit
 * entries older than AUDIT_RETENTION, expired rate-limit counters, and replay-cache entries (used jtis)
 * of proofs and assertions that have expired anyway. Retired keys are removed by key rotation (keys/rotation.ts).
 */
export async function cleanUpExpiredRows(
  db: Database,
  now: Date,
  settings: { auditRetention: number; batchSize?: number; maxBatches?: number },
): Promise<CleanupResult> {
  const options = { batchSize: settings.batchSize ?? 1000, maxBatches: settings.maxBatches ?? 100 };
  const deadBefore = new Date(now.getTime() - KEEP_DEAD_ROWS_SECONDS * 1000);
  const grants = await deleteInBatches(db, { table: 'grants', key: 'id' }, 'expires_at < ? OR revoked_at < ?', [deadBefore, deadBefore], options);
  const refreshTokens = await deleteInBatches(db, { table: 'refresh_tokens', key: 'token_hash' }, 'expires_at < ?', [deadBefore], options);
  const revokedAccessTokens = await deleteInBatches(db, { table: 'revoked_access_tokens', key: 'jti' }, 'expires_at <= ?', [now], options);
  const auditBefore = new Date(now.getTime() - settings.auditRetention * 1000);
  const auditEntries = await deleteInBatches(db, { table: 'audit_log', key: 'id' }, 'at < ?', [auditBefore], options);
  // rate-limiter-flexible stores expiry as epoch milliseconds.
  const rateLimitCounters = await deleteInBatches(db, { table: 'rate_limits', key: 'key' }, 'expire < ?', [now.getTime()], options);
  const replayCacheEntries = await deleteInBatches(db, { table: 'replay_cache', key: 'key' }, 'expires_at <= ?', [now], options);
  return { grants, refreshTokens, revokedAccessTokens, auditEntries, rateLimitCounters, replayCacheEntries };
}
