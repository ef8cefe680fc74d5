import type { Config } from '../config.js';
import { TemporarilyUnavailable } from '../errors.js';
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
/** Most entries the in-memory cache holds (a few tens of megabytes). */
export const REPLAY_MEMORY_MAX_ENTRIES = 100_000;
const SWEEP_INTERVAL_MS = 10_000;

/**
 * PostgreSQL (DATABASE_URL set, shared by every instance) or, on the embedded database, memory:
 * PGlite lives in one process, so a map in that process is exact.
 */
export function createReplayCache(config: Pick<Config, 'databaseUrl'>, db: Database, clock: Clock): ReplayCache {
  return config.databaseUrl ? createDatabaseReplayCache(db, clock) : createMemoryReplayCache(clock);
}

interface Waiting {
  hash: string;
  expiresAt: Date;
  resolve(first: boolean): void;
  reject(error: unknown): void;
}

/**
 * The replay_cache table. Calls are coalesced: the calls made while a statement is in flight (or in
 * the same turn of the event loop) go together into the next one, so a burst of requests costs one
 * round trip per batch rather than one per request. Within a batch a key is claimed once, and only
 * the first call for it can get true; a key claimed by an earlier statement (of this instance or any
 * other) is a conflict on the primary key and gets false.
 */
export function createDatabaseReplayCache(db: Database, clock: Clock, options: { maxBatch?: number | undefined } = {}): ReplayCache {
  const maxBatch = options.maxBatch ?? REPLAY_BATCH_MAX;
  const queue: Waiting[] = [];
  let running = false;

  const runBatch = async (batch: Waiting[]): Promise<void> => {
    const firstFor = new Map<string, Waiting>();
    for (const waiting of batch) if (!firstFor.has(waiting.hash)) firstFor.set(waiting.hash, waiting);
    try {
      const claimed = await claimReplayKeys(
        db,
        [...firstFor.values()].map((waiting) => ({ key: waiting.hash, expiresAt: waiting.expiresAt })),
        clock.now(),
      );
      for (const waiting of batch) waiting.resolve(firstFor.get(waiting.hash) === waiting && claimed.has(waiting.hash));
    } catch (error) {
      for (const waiting of batch) waiting.reject(error);
    }
  };
  const drain = async (): Promise<void> => {
    while (queue.length > 0) await runBatch(queue.splice(0, maxBatch));
    running = false;
  };

  return {
    remember(key, expiresAt) {
      return new Promise<boolean>((resolve, reject) => {
        queue.push({ hash: sha256Hex(key), expiresAt, resolve, reject });
        if (running) return;
        running = true;
        // Calls made in this same turn join the first statement.
        queueMicrotask(() => void drain());
      });
    },
  };
}

/**
 * Memory, for the embedded database (one process). Exact: the check and the insert happen in one
 * synchronous step. Bounded: expired entries are swept at least every SWEEP_INTERVAL_MS and when
 * the cache is full; a cache still full of live entries refuses (503) rather than forget a live
 * one, which would let a replay through.
 */
export function createMemoryReplayCache(clock: Clock, options: { maxEntries?: number | undefined } = {}): ReplayCache {
  const maxEntries = options.maxEntries ?? REPLAY_MEMORY_MAX_ENTRIES;
  const expiries = new Map<string, number>();
  let nextSweep = 0;
  let nextSweepWhenFull = 0;
  const sweep = (now: number): void => {
    for (const [hash, expiresAt] of expiries) if (expiresAt <= now) expiries.delete(hash);
  };

  return {
    async remember(key, expiresAt) {
      const now = clock.now().getTime();
      if (now >= nextSweep) {
        sweep(now);
        nextSweep = now + SWEEP_INTERVAL_MS;
      } else if (expiries.size >= maxEntries && now >= nextSweepWhenFull) {
        // At most once a second however hard a full cache is pressed: a sweep walks every entry.
        sweep(now);
        nextSweepWhenFull = now + 1000;
      }
      const hash = sha256Hex(key);
      const held = expiries.get(hash);
      if (held !== undefined && held > now) return false;
      if (held === undefined && expiries.size >= maxEntries) {
        throw new TemporarilyUnavailable(1, { cause: new Error(`the replay cache holds ${maxEntries} live entries`) });
      }
      expiries.set(hash, expiresAt.getTime());
      return true;
    },
  };
}
