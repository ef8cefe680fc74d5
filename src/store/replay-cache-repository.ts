import { preparedQuery, type Queryable } from './database.js';

export interface ReplayCacheEntry {
  /** Already hashed by the caller; at most once in one call. */
  key: string;
  expiresAt: Date;
}

/**
 * Claims every key no live entry holds, in one statement, and returns the keys it claimed. A key
 * whose entry expired at or before `now` is claimed again (its value may be used anew); a live one
 * is left alone. Two statements claiming one key at once are ordered by the primary key: exactly
 * one of them gets it. Each key may appear only once per call (ON CONFLICT cannot touch a row twice).
 * Rows go in in key order, so two statements that share keys wait for each other in one order and
 * never deadlock (in any other order, each could hold a key the other waits for).
 */
export async function claimReplayKeys(db: Queryable, entries: readonly ReplayCacheEntry[], now: Date): Promise<Set<string>> {
  if (entries.length === 0) return new Set();
  const sorted = [...entries].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  const result = await preparedQuery<{ key: string }>(
    db,
    'claim_replay_keys',
    `INSERT INTO replay_cache (key, expires_at)
     SELECT key, expires_at FROM unnest(?::text[], ?::timestamptz[]) AS claimed (key, expires_at) ORDER BY key COLLATE "C"
     ON CONFLICT (key) DO UPDATE SET expires_at = EXCLUDED.expires_at WHERE replay_cache.expires_at <= ?
     RETURNING key`,
    [sorted.map((entry) => entry.key), sorted.map((entry) => entry.expiresAt), now],
  );
  return new Set(result.rows.map((row) => row.key));
}
