import { RateLimiterMemory, RateLimiterPostgres, RateLimiterRes, type RateLimiterAbstract, type IRateLimiterOptions } from 'rate-limiter-flexible';
import type { Config } from '../config.js';
import { TooManyRequests } from '../errors.js';
import { sha256Hex } from '../lib/hash.js';
import type { Database } from '../store/database.js';

/** Longest login lock, whatever the doubling reaches. */
export const MAX_LOCKOUT_SECONDS = 3600;
const DAY = 24 * 3600;

/**
 * Brute-force protection: consecutive failed passwords lock a username (doubling locks, up to an
 * hour); per client IP, a cap on /token requests and on failed client authentications. Counters
 * live in PostgreSQL (shared by every instance) or, on the embedded database, in memory.
 */
export interface Throttle {
  /** Throws TooManyRequests while the username is locked — even for the right password. */
  assertLoginAllowed(username: string): Promise<void>;
  loginFailed(username: string): Promise<void>;
  loginSucceeded(username: string): Promise<void>;
  /** Counts one /token request from `ip`. */
  consumeTokenRequest(ip: string): Promise<void>;
  assertClientAuthenticationAllowed(ip: string): Promise<void>;
  clientAuthenticationFailed(ip: string): Promise<void>;
}

type Limit = 'login_lock' | 'token_per_ip' | 'client_auth_per_ip';

export function createThrottle(
  config: Pick<Config, 'lockoutThreshold' | 'lockoutDuration' | 'rateLimitPerIp' | 'databaseUrl'>,
  db: Database,
  onReject: (limit: Limit) => void = () => undefined,
): Throttle {
  const limiter = (options: IRateLimiterOptions & { keyPrefix: string }): RateLimiterAbstract =>
    config.databaseUrl
      ? new RateLimiterPostgres({
          ...options,
          storeClient: db,
          storeType: 'knex',
          tableName: 'rate_limits',
          tableCreated: true,
          // If the database is unreachable, count in memory rather than fail open or crash.
          insuranceLimiter: new RateLimiterMemory(options),
        })
      : new RateLimiterMemory(options);

  const threshold = config.lockoutThreshold;
  const loginFailures = limiter({ keyPrefix: 'login_failures', points: Math.max(1, threshold), duration: DAY });
  const loginLocks = limiter({ keyPrefix: 'login_locks', points: 10_000, duration: DAY });
  const tokenRequests = limiter({ keyPrefix: 'token_ip', points: Math.max(1, config.rateLimitPerIp), duration: 60 });
  // Failed client authentications per IP: a fifth of the request budget (at least 10 a minute).
  const clientFailureBudget = Math.max(10, Math.floor(config.rateLimitPerIp / 5));
  const clientFailures = limiter({ keyPrefix: 'client_auth_ip', points: clientFailureBudget, duration: 60 });

  /** consume() rejects with a RateLimiterRes when over the limit; both outcomes are answers here. */
  const consume = async (rateLimiter: RateLimiterAbstract, key: string): Promise<RateLimiterRes> => {
    try {
      return await rateLimiter.consume(key);
    } catch (result) {
      if (result instanceof RateLimiterRes) return result;
      throw result;
    }
  };
  const reject = (limit: Limit, result: RateLimiterRes, description: string): never => {
    onReject(limit);
    throw new TooManyRequests(result.msBeforeNext / 1000, description);
  };
  // Usernames may be long; keys must fit the table's 255 characters.
  const loginKey = (username: string): string => sha256Hex(username);

  return {
    async assertLoginAllowed(username) {
      if (threshold === 0) return;
      const state = await loginFailures.get(loginKey(username));
      if (state && state.consumedPoints > threshold) reject('login_lock', state, 'too many failed logins for this username; try again later');
    },
    async loginFailed(username) {
      if (threshold === 0) return;
      const key = loginKey(username);
      const state = await consume(loginFailures, key);
      if (state.consumedPoints === threshold) {
        const lockNumber = (await consume(loginLocks, key)).consumedPoints;
        const seconds = Math.min(config.lockoutDuration * 2 ** (lockNumber - 1), MAX_LOCKOUT_SECONDS);
        await loginFailures.block(key, seconds);
      }
    },
    async loginSucceeded(username) {
      if (threshold === 0) return;
      const key = loginKey(username);
      await Promise.all([loginFailures.delete(key), loginLocks.delete(key)]);
    },
    async consumeTokenRequest(ip) {
      if (config.rateLimitPerIp === 0) return;
      const state = await consume(tokenRequests, ip);
      if (state.consumedPoints > config.rateLimitPerIp) reject('token_per_ip', state, 'too many requests from this address; try again later');
    },
    async assertClientAuthenticationAllowed(ip) {
      if (config.rateLimitPerIp === 0) return;
      const state = await clientFailures.get(ip);
      if (state && state.consumedPoints >= clientFailureBudget) reject('client_auth_per_ip', state, 'too many failed client authentications from this address; try again later');
    },
    async clientAuthenticationFailed(ip) {
      if (config.rateLimitPerIp === 0) return;
      await consume(clientFailures, ip);
    },
  };
}
