import { TooManyRequests } from '../../src/errors.js';
import { createThrottle, type Throttle } from '../../src/services/throttle.js';
import { createTestDatabase, itWithPostgres, type TestDatabase } from '../helpers/database.js';
import { testConfig } from '../helpers/server.js';

let database: TestDatabase;
beforeAll(async () => {
  database = await createTestDatabase();
});
afterAll(() => database.close());

/** A throttle as createDeps builds it: on PostgreSQL (the rate_limits table) when the test runs on it. */
function throttle(env: Record<string, string>): Throttle {
  return createThrottle({ ...testConfig({ LOCKOUT_DURATION: '1h', ...env }), databaseUrl: database.url }, database.db);
}

/** Runs one login attempt whose password check only counts that it ran and says "wrong". */
async function guess(instance: Throttle, username: string, ip: string, verifications: { count: number }): Promise<'wrong' | 'refused'> {
  try {
    await instance.attemptLogin({ username, ip }, async () => {
      verifications.count++;
      await new Promise((resolve) => setTimeout(resolve, 20));
      return undefined;
    });
    return 'wrong';
  } catch (error) {
    if (error instanceof TooManyRequests) return 'refused';
    throw error;
  }
}

describe('the login lock bounds the password checks themselves', () => {
  it('runs the check at most LOCKOUT_THRESHOLD times for 50 attempts at once from one IP', async () => {
    const instance = throttle({ LOCKOUT_THRESHOLD: '4' });
    const verifications = { count: 0 };
    const outcomes = await Promise.all(Array.from({ length: 50 }, () => guess(instance, 'olivia', '198.51.100.1', verifications)));
    expect(verifications.count).toBeLessThanOrEqual(4);
    expect(outcomes.filter((outcome) => outcome === 'wrong')).toHaveLength(verifications.count);
  });

  it('runs the check at most LOCKOUT_GLOBAL_THRESHOLD times for 50 attempts at once from 50 IPs', async () => {
    const instance = throttle({ LOCKOUT_THRESHOLD: '4', LOCKOUT_GLOBAL_THRESHOLD: '7' });
    const verifications = { count: 0 };
    await Promise.all(Array.from({ length: 50 }, (_, i) => guess(instance, 'peggy', `198.51.100.${i + 1}`, verifications)));
    expect(verifications.count).toBeLessThanOrEqual(7);
  });

  it('counts a check that throws as a failure, and passes the error on', async () => {
    const instance = throttle({ LOCKOUT_THRESHOLD: '2' });
    const broken = () => instance.attemptLogin({ username: 'quentin', ip: '198.51.100.9' }, () => Promise.reject(new Error('lost connection')));
    await expect(broken()).rejects.toThrow('lost connection');
    await expect(broken()).rejects.toThrow('lost connection');
    await expect(broken()).rejects.toBeInstanceOf(TooManyRequests);
  });

  it('takes any username and any client IP, however long (keys fit the 255-character column)', async () => {
    const instance = throttle({ LOCKOUT_THRESHOLD: '2' });
    const username = '\u{1F600}'.repeat(255);
    const ip = `${'f'.repeat(300)}, 2001:db8::1`;
    const verifications = { count: 0 };
    for (let i = 0; i < 3; i++) await guess(instance, username, ip, verifications);
    expect(verifications.count).toBe(2);
  });

  itWithPostgres('shares the count between instances on one PostgreSQL database', async () => {
    const first = throttle({ LOCKOUT_THRESHOLD: '4' });
    const second = throttle({ LOCKOUT_THRESHOLD: '4' });
    const verifications = { count: 0 };
    await Promise.all(Array.from({ length: 40 }, (_, i) => guess(i % 2 === 0 ? first : second, 'rupert', '198.51.100.77', verifications)));
    expect(verifications.count).toBeLessThanOrEqual(4);
    // The counters are rows of rate_limits, not in-memory fallbacks of either instance.
    const keys = (await database.db('rate_limits').select('key').where('key', 'like', 'login_%')).map((row: { key: string }) => row.key);
    expect(keys.some((key) => key.startsWith('login_failures_ip:'))).toBe(true);
    expect(keys.some((key) => key.startsWith('login_failures:'))).toBe(true);
    expect(keys.some((key) => key.startsWith('login_locks_ip:'))).toBe(true);
  });
});
