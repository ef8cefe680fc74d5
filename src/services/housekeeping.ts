import type { Database } from '../store/database.js';
import { addSeconds } from '../lib/clock.js';
import { deleteExpiredRows, type DeletedRows } from '../store/housekeeping-repository.js';

/**
 * Dead rows kept this long after they stop mattering: a used refresh token of a revoked or expired
 * family still answers "reuse" for a day, which keeps the audit trail readable.
 */
export const KEEP_DEAD_ROWS_SECONDS = 24 * 3600;

export type CleanupResult = DeletedRows;

/**
 * One pass of periodic clean-up: expired or revoked grants (their refresh tokens go with them),
 * expired refresh tokens, deny-list entries of access tokens that have expired anyway, audit
 * entries older than AUDIT_RETENTION, expired rate-limit counters, and replay-cache entries of
 * DPoP proofs and client assertions that could no longer be accepted, and status lists whose tokens
 * have all expired. Retired keys are removed by
 * key rotation (keys/rotation.ts).
 */
export async function cleanUpExpiredRows(
  db: Database,
  now: Date,
  settings: { auditRetention: number; batchSize?: number; maxBatches?: number },
): Promise<CleanupResult> {
  return deleteExpiredRows(
    db,
    {
      now,
      deadBefore: addSeconds(now, -KEEP_DEAD_ROWS_SECONDS),
      auditBefore: addSeconds(now, -settings.auditRetention),
    },
    { batchSize: settings.batchSize ?? 1000, maxBatches: settings.maxBatches ?? 100 },
  );
}
