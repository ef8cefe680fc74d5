import { describeIf } from './prerequisites.js';

/** The Redis server under test (TEST_REDIS_URL, e.g. redis://127.0.0.1:6379), or undefined. */
export const testRedisUrl = process.env.TEST_REDIS_URL || undefined;

/**
 * describe() for behaviour that needs a Redis server (REDIS_URL). Without TEST_REDIS_URL the group
 * is not registered (its hooks do not run) and is listed at the end of the run as not run here.
 */
export function describeWithRedis(name: string, body: () => void): void {
  describeIf(testRedisUrl !== undefined, name, 'TEST_REDIS_URL', body);
}
