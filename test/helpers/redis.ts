/** The Redis server under test (TEST_REDIS_URL, e.g. redis://127.0.0.1:6379), or undefined. */
export const testRedisUrl = process.env.TEST_REDIS_URL || undefined;

/** Appended to the name of a group that is skipped because no Redis was given. */
export const NEEDS_REDIS = '(needs TEST_REDIS_URL)';

/**
 * describe() for behaviour that needs a Redis server (REDIS_URL). Without TEST_REDIS_URL the group
 * is reported as skipped, with the reason in its name; its hooks do not run.
 */
export function describeWithRedis(name: string, body: () => void): void {
  if (testRedisUrl) describe(name, body);
  else describe.skip(`${name} ${NEEDS_REDIS}`, body);
}
