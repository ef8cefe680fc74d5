import {
  RateLimiterMemory,
  RateLimiterPostgres,
  RateLimiterRedis,
  RateLimiterRes,
  type RateLimiterAbstract,
  type IRateLimiterOptions,
} from 'rate-limiter-flexible';
import type { Config } from '../config.js';
import { TooManyRequests } from '../errors.js';
import { sha256Hex } from '../lib/hash.js';
import type { Database } from '../store/database.js';
import type { RedisConnection } from './redis-connection.js';
import { createReservedBudget } from './reserved-budget.js';

/** Longest login lock, whatever the doubling reaches. */
export const MAX_LOCKOUT_SECONDS = 3600;
const DAY = 24 * 3600;
/**
 * A lock sets its counter to LOCKED_POINTS until the lock ends, so that a refusal can tell a lock
 * (Retry-After: the rest of it) from a counter that is only full while the attempt that filled it is
 * being checked (Retry-After: 1 s). Any count above half of it is a lock: thresholds have at most 9
 * digits, races move a lock by a few points, and 2^31 (the column's limit) stays far away.
 */
const LOCKED_POINTS = 2_000_000_000;
const isLock = (state: RateLimiterRes): boolean => state.consumedPoints > LOCKED_POINTS / 2;

/** Who is trying a password: the username as sent, and the client IP (ctx.ip). */
export interface LoginAttempt {
  username: string;
  ip: string;
}

/**
 * Brute-force protection. Passwords: failures per username and client IP lock that pair after
 * LOCKOUT_THRESHOLD; failures per username from all IPs together lock it for every source after
 * LOCKOUT_GLOBAL_THRESHOLD (doubling locks, up to an hour). Per client IP: a cap on /token requests
 * and on failed client authentications. The login counters live in PostgreSQL (shared by every
 * instance, exact) or, on the embedded database, in memory. The per-IP counters live in Redis when
 * REDIS_URL is set (shared, exact, one Redis round trip); otherwise the /token budget is drawn from
 * PostgreSQL in reservations (see reserved-budget.ts) and failed client authentications are counted
 * there.
 */
export interface Throttle {
  /**
   * Runs `verify` (the password check) as one login attempt: reserves the attempt first and throws
   * TooManyRequests, without calling `verify`, while the username is locked for this IP or for every
   * source, even for the right password. `verify` resolving to undefined, or throwing, is a failure.
   */
  attemptLogin<T>(attempt: LoginAttempt, verify: () => Promise<T | undefined>): Promise<T | undefined>;
  /** Counts one /token request from `ip`. */
  consumeTokenRequest(ip: string): Promise<void>;
  assertClientAuthenticationAllowed(ip: string): Promise<void>;
  clientAuthenticationFailed(ip: string): Promise<void>;
  /** Resolves once the Redis connection, if any, is up (or has failed for now: counting goes on in memory). */
  ready(): Promise<void>;
  /** Closes the Redis connection, if any. */
  close(): Promise<void>;
}

type Limit = 'login_lock' | 'token_per_ip' | 'client_auth_per_ip';

export function createThrottle(
  config: Pick<Config, 'lockoutThreshold' | 'lockoutGlobalThreshold' | 'lockoutDuration' | 'rateLimitPerIp' | 'databaseUrl'>,
  db: Database,
  onReject: (limit: Limit) => void = () => undefined,
  /** REDIS_URL's connection: the per-IP counters go there. The throttle closes it (close()). */
  redisConnection?: RedisConnection,
): Throttle {
  // While Redis is unreachable its commands fail at once (no offline queue): the per-IP counters
  // then count in this instance's memory (insuranceLimiter) rather than fail open or hold requests.
  const redis = config.rateLimitPerIp > 0 ? redisConnection?.client : undefined;
  const connected = redisConnection?.ready ?? Promise.resolve();
  /** A per-IP counter: in Redis when there is one, else as the login counters. */
  const perIpLimiter = (options: IRateLimiterOptions & { keyPrefix: string }): RateLimiterAbstract =>
    redis
      ? new RateLimiterRedis({ ...options, storeClient: redis, rejectIfRedisNotReady: true, insuranceLimiter: new RateLimiterMemory(options) })
      : limiter(options);
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

  /** One level of the login lock: failures counted for a day, locks counted for a day. */
  const loginLevel = (threshold: number, prefix: string) => ({
    threshold,
    failures: limiter({ keyPrefix: `login_failures${prefix}`, points: Math.max(1, threshold), duration: DAY }),
    locks: limiter({ keyPrefix: `login_locks${prefix}`, points: 10_000, duration: DAY }),
  });
  // Per (username, client IP), and per username from every source.
  const source = loginLevel(config.lockoutThreshold, '_ip');
  const everywhere = loginLevel(config.lockoutGlobalThreshold, '');
  const tokenRequests = perIpLimiter({ keyPrefix: 'token_ip', points: Math.max(1, config.rateLimitPerIp), duration: 60 });
  // On PostgreSQL without Redis, /token requests are reserved from the shared counter in batches:
  // one write per batch instead of one per request, never more than the limit in total.
  const tokenBudget = !redis && config.databaseUrl ? createReservedBudget(tokenRequests, Math.max(1, config.rateLimitPerIp)) : undefined;
  // Failed client authentications per IP: a fifth of the request budget (at least 10 a minute).
  const clientFailureBudget = Math.max(10, Math.floor(config.rateLimitPerIp / 5));
  const clientFailures = perIpLimiter({ keyPrefix: 'client_auth_ip', points: clientFailureBudget, duration: 60 });

  /** consume() rejects with a RateLimiterRes when over the limit; both outcomes are answers here. */
  const consume = async (rateLimiter: RateLimiterAbstract, key: string): Promise<RateLimiterRes> => {
    try {
      return await rateLimiter.consume(key);
    } catch (result) {
      if (result instanceof RateLimiterRes) return result;
      throw result;
    }
  };
  const reject = (limit: Limit, msBeforeNext: number, description: string): never => {
    onReject(limit);
    throw new TooManyRequests(msBeforeNext / 1000, description);
  };

  // The login lock. The order below is what bounds the guesses, however they are timed:
  // 1. Reads only: a locked (or full) username is refused without writing anything.
  // 2. Reserve the attempt with consume(), an atomic increment on both stores, first on the
  //    (username, IP) counter, then on the username's; past its threshold, a reservation is
  //    refused. Only an attempt its IP may still make takes a username point, so a burst from one
  //    IP (or guesses from an IP already locked) never counts towards the lock for every source
  //    beyond that IP's own threshold, however the store orders concurrent increments. An attempt
  //    the username's counter refuses gives its IP point back. A full counter is settled by the
  //    attempt that filled it (lock or reset).
  // 3. Verify the password. A failure keeps its points; the failure whose reservation reached a
  //    threshold locks that counter (doubling per lock, up to MAX_LOCKOUT_SECONDS). A success resets
  //    the (username, IP) counter and its locks, and gives back its username point.
  type Level = ReturnType<typeof loginLevel>;
  /** Refused for these counters (one or both): Retry-After is the longest wait among them, the rest of a lock or a second. */
  const loginRefused = (...states: RateLimiterRes[]): never =>
    reject(
      'login_lock',
      Math.max(...states.map((state) => (isLock(state) ? state.msBeforeNext : 1000))),
      'too many failed logins for this username; try again later',
    );
  /** The counter's state, if it counts: an expired in-memory record does not. */
  const currentState = async (level: Level, key: string): Promise<RateLimiterRes | null> => {
    if (level.threshold === 0) return null;
    const state = await level.failures.get(key);
    return state && state.msBeforeNext > 0 ? state : null;
  };
  /** Reserves one attempt; undefined when the level is off, else the attempt's number in the count. */
  const reserve = async (level: Level, key: string): Promise<RateLimiterRes | undefined> => (level.threshold === 0 ? undefined : consume(level.failures, key));
  const lock = async (level: Level, key: string): Promise<void> => {
    const lockNumber = (await consume(level.locks, key)).consumedPoints;
    const seconds = Math.min(config.lockoutDuration * 2 ** (lockNumber - 1), MAX_LOCKOUT_SECONDS);
    await level.failures.set(key, LOCKED_POINTS, seconds);
  };
  const reachedThreshold = (level: Level, reservation: RateLimiterRes | undefined): boolean =>
    reservation !== undefined && reservation.consumedPoints === level.threshold;

  return {
    async attemptLogin(attempt, verify) {
      if (source.threshold === 0 && everywhere.threshold === 0) return verify();
      // Usernames are compared in NFC; keys must fit the table's 255 characters, whatever was sent.
      const usernameKey = sha256Hex(attempt.username.normalize('NFC'));
      const sourceKey = `${usernameKey}:${sha256Hex(attempt.ip)}`;

      const [sourceState, everywhereState] = await Promise.all([currentState(source, sourceKey), currentState(everywhere, usernameKey)]);
      const blocking = [
        ...(everywhereState && (isLock(everywhereState) || everywhereState.consumedPoints >= everywhere.threshold) ? [everywhereState] : []),
        ...(sourceState && (isLock(sourceState) || sourceState.consumedPoints >= source.threshold) ? [sourceState] : []),
      ];
      if (blocking.length > 0) loginRefused(...blocking);

      const sourceReservation = await reserve(source, sourceKey);
      if (sourceReservation && sourceReservation.consumedPoints > source.threshold) loginRefused(sourceReservation);
      const everywhereReservation = await reserve(everywhere, usernameKey);
      if (everywhereReservation && everywhereReservation.consumedPoints > everywhere.threshold) {
        await Promise.all([everywhere.failures.reward(usernameKey), sourceReservation ? source.failures.reward(sourceKey) : undefined]);
        loginRefused(everywhereReservation);
      }

      const failed = async (): Promise<void> => {
        await Promise.all([
          reachedThreshold(source, sourceReservation) ? lock(source, sourceKey) : undefined,
          reachedThreshold(everywhere, everywhereReservation) ? lock(everywhere, usernameKey) : undefined,
        ]);
      };
      let verified: Awaited<ReturnType<typeof verify>>;
      try {
        verified = await verify();
      } catch (error) {
        // An attempt that broke off is counted like a wrong password: it may have been one.
        await failed();
        throw error;
      }
      if (verified === undefined) {
        await failed();
        return undefined;
      }
      await Promise.all([
        sourceReservation ? source.failures.delete(sourceKey) : undefined,
        sourceReservation ? source.locks.delete(sourceKey) : undefined,
        everywhereReservation ? everywhere.failures.reward(usernameKey) : undefined,
      ]);
      return verified;
    },
    async consumeTokenRequest(ip) {
      if (config.rateLimitPerIp === 0) return;
      if (tokenBudget) {
        const answer = await tokenBudget.consume(ip);
        if (!answer.allowed) reject('token_per_ip', answer.msBeforeNext, 'too many requests from this address; try again later');
        return;
      }
      const state = await consume(tokenRequests, ip);
      if (state.consumedPoints > config.rateLimitPerIp) reject('token_per_ip', state.msBeforeNext, 'too many requests from this address; try again later');
    },
    async assertClientAuthenticationAllowed(ip) {
      if (config.rateLimitPerIp === 0) return;
      const state = await clientFailures.get(ip);
      if (state && state.consumedPoints >= clientFailureBudget)
        reject('client_auth_per_ip', state.msBeforeNext, 'too many failed client authentications from this address; try again later');
    },
    async clientAuthenticationFailed(ip) {
      if (config.rateLimitPerIp === 0) return;
      await consume(clientFailures, ip);
    },
    ready() {
      return connected;
    },
    async close() {
      await redisConnection?.close();
    },
  };
}
