import { createRequire } from 'node:module';
import type { Redis } from 'ioredis';

/**
 * The Redis connection of a process (REDIS_URL), shared by the per-IP counters and the replay
 * cache. Commands fail at once while Redis is unreachable (no offline queue): each user decides
 * what that means (the counters count in memory, the replay cache refuses).
 */
export interface RedisConnection {
  client: Redis;
  /** Resolves once connected, or once the first attempt failed (ioredis keeps reconnecting). */
  ready: Promise<void>;
  close(): Promise<void>;
}

/** ioredis, loaded only when REDIS_URL is set. */
function redisClient(): typeof Redis {
  return (createRequire(import.meta.url)('ioredis') as { Redis: typeof Redis }).Redis;
}

export function connectRedis(url: string): RedisConnection {
  const client = new (redisClient())(url, { enableOfflineQueue: false, maxRetriesPerRequest: 1, connectTimeout: 2000, lazyConnect: false });
  // ioredis reconnects by itself; an 'error' listener keeps a lost connection from crashing the process.
  client.on('error', () => undefined);
  const ready = new Promise<void>((resolve) => {
    client.once('ready', resolve);
    client.once('error', () => resolve());
  });
  return {
    client,
    ready,
    async close() {
      await client.quit().catch(() => client.disconnect());
    },
  };
}
