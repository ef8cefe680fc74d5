import type { Redis } from 'ioredis';
import { TemporarilyUnavailable } from '../errors.js';
import { batchedCalls } from '../lib/batched-calls.js';
import type { Clock } from '../lib/clock.js';
import { sha256Hex } from '../lib/hash.js';
import type { Database } from '../store/database.js';
import { claimReplayKeys } from '../store/replay-cache-repository.js';

/**
 * Values that may be used once (DPoP proof jtis, client assertion jtis), across every instance.
 * Keys are hashed before they are kept, so any length and any content is fine.
 */
export interface ReplayCache {
  /**
   * True the first time `key` is seen, false while an earlier use is remembered. `expiresAt` is the
   * last moment the proof or assertion carrying it could be accepted; after it the key may be used
   * anew. Rejects when the store cannot answer: the caller must then refuse (never accept unseen).
   */
  remember(key: string, expiresAt: Date): Promise<boolean>;
}

/** Most keys one statement claims; calls beyond it wait for the next statement. */
export const REPLAY_BATCH_MAX = 500;
/**
 * Most statements in flight at once (of the pool's 10 connections). Fewer means larger batches and
 * fewer round trips: at 50 clients a statement carried 5.5 claims with three in flight, 8 with two,
 * 10-11 with one, and PostgreSQL spent 63-77, 46-64 and 45-59 µs of CPU per claim (a statement
 * costs it about 200 µs whatever its size). One at a time makes each call also wait for the
 * statement before its own; two keep that wait short while taking most of the saving.
 */
export const REPLAY_STATEMENTS_IN_FLIGHT = 2;

/**
 * Redis when REDIS_URL is set (shared by every instance that names it), else the database's
 * replay_cache table: on PostgreSQL shared by every instance; on the embedded database too, though
 * it serves one process, so that a restart (an upgrade, a changed setting) does not forget the
 * proofs and assertions of the minutes before it, which could then be replayed once more.
 */
export function createReplayCache(db: Database, clock: Clock, redis?: Redis): ReplayCache {
  return redis ? createRedisReplayCache(redis, clock) : createDatabaseReplayCache(db, clock);
}

/** Prefix of the replay cache's keys in Redis (the rest is the SHA-256 of the key, in hex). */
export const REDIS_REPLAY_PREFIX = 'gatehouse:replay:';

/**
 * Redis: one `SET key 1 PX ttl NX` per call, which Redis answers atomically, so exactly one of any
 * number of calls for a key (from any instance) gets true while the entry lives; Redis drops it when
 * the proof or assertion could no longer be accepted anyway. No write-ahead log or commit: cheaper
 * than a PostgreSQL claim, and lost the same way when Redis restarts without persistence. A failed
 * command (Redis unreachable) rejects with TemporarilyUnavailable: the request is refused, never
 * accepted unseen.
 */
export function createRedisReplayCache(redis: Redis, clock: Clock): ReplayCache {
  return {
    async remember(key, expiresAt) {
      // At least a millisecond: PX must be positive, and a claim is remembered for at least that long.
      const ttlMs = Math.max(1, Math.ceil(expiresAt.getTime() - clock.now().getTime()));
      let answer: string | null;
      try {
        answer = await redis.set(`${REDIS_REPLAY_PREFIX}${sha256Hex(key)}`, '1', 'PX', ttlMs, 'NX');
      } catch (error) {
        throw new TemporarilyUnavailable(1, { cause: error });
      }
      return answer === 'OK';
    },
  };
}

/** One call's key (hashed) and how long to remember it. */
interface Claim {
  hash: string;
  expiresAt: Date;
}

/**
 * The replay_cache table. Calls are coalesced (batchedCalls): the calls made in one pass of the event
 * loop (many requests under load), or while `maxInFlight` statements are already running, go together
 * into the next statement, so a burst of requests costs one round trip per batch rather than one per
 * request. Within a batch a key is claimed once, and only the first call for it can get true; a key claimed by another statement
 * (of this instance or any other, earlier or at the same time) is a conflict on the primary key, and
 * only one of the statements gets it.
 */
export function createDatabaseReplayCache(
  db: Database,
  clock: Clock,
  options: { maxBatch?: number | undefined; maxInFlight?: number | undefined } = {},
): ReplayCache {
  const claim = batchedCalls<Claim, boolean>({
    maxBatch: options.maxBatch ?? REPLAY_BATCH_MAX,
    maxInFlight: options.maxInFlight ?? REPLAY_STATEMENTS_IN_FLIGHT,
    async run(batch) {
      // A key twice in one batch: only its first call may get true (ON CONFLICT cannot touch a row twice).
      const firstFor = new Map<string, Claim>();
      for (const call of batch) if (!firstFor.has(call.hash)) firstFor.set(call.hash, call);
      const claimed = await claimReplayKeys(
        db,
        [...firstFor.values()].map((call) => ({ key: call.hash, expiresAt: call.expiresAt })),
        clock.now(),
      );
      return batch.map((call) => firstFor.get(call.hash) === call && claimed.has(call.hash));
    },
  });
  return { remember: (key, expiresAt) => claim({ hash: sha256Hex(key), expiresAt }) };
}
