import type { Logger } from 'pino';
import type { Config } from './config.js';
import { KeyService } from './keys/key-service.js';
import { systemClock, type Clock } from './lib/clock.js';
import { createLogger } from './logger.js';
import { createMetrics, type Metrics } from './services/metrics.js';
import { createThrottle, type Throttle } from './services/throttle.js';
import type { Database } from './store/database.js';
import { deriveRefreshTokenSecret } from './tokens/refresh-token.js';

/** The composition root: every service the HTTP layer, the grants and the CLI use. */
export interface Deps {
  config: Config;
  db: Database;
  clock: Clock;
  keys: KeyService;
  logger: Logger;
  metrics: Metrics;
  throttle: Throttle;
  /** Keys the derivation of a refresh token's successor (see tokens/refresh-token.ts). */
  refreshTokenSecret: Buffer;
}

/** Seconds a retired key stays published beyond the access-token lifetime (clock skew, caches). */
export const KEY_RETENTION_LEEWAY = 300;

/**
 * How often each instance re-reads the key table (and rotates when due): every 5 s, sooner when
 * the key timings are shorter than that (tests use seconds), so an instance learns of a new key
 * well within the publish-ahead time and signs with a new current key within seconds.
 */
export function keyRefreshIntervalMs(config: Pick<Config, 'keyRotationInterval' | 'keyPublishAhead'>): number {
  const shortest = Math.min(config.keyRotationInterval, config.keyPublishAhead) * 1000;
  return Math.max(250, Math.min(5_000, Math.floor(shortest / 4)));
}

export function createKeyService(config: Config, db: Database, clock: Clock): KeyService {
  if (!config.keyEncryptionSecret) throw new Error('KEY_ENCRYPTION_SECRET is not set');
  return new KeyService(
    db,
    {
      encryptionSecret: config.keyEncryptionSecret,
      rotationInterval: config.keyRotationInterval,
      publishAhead: config.keyPublishAhead,
      retention: config.accessTokenTtl + KEY_RETENTION_LEEWAY,
    },
    clock,
  );
}

/** Builds the services and loads (or creates) the signing keys. Migrations must have run. */
export async function createDeps(config: Config, db: Database, options: { clock?: Clock; logger?: Logger } = {}): Promise<Deps> {
  const clock = options.clock ?? systemClock;
  const logger = options.logger ?? createLogger(config.logLevel);
  const keys = createKeyService(config, db, clock);
  await keys.initialize();
  const metrics = createMetrics(db, keys, clock);
  const throttle = createThrottle(config, db, (limit) => metrics.rateLimitRejections.inc({ limit }));
  const refreshTokenSecret = deriveRefreshTokenSecret(config.keyEncryptionSecret as string);
  return { config, db, clock, keys, logger, metrics, throttle, refreshTokenSecret };
}
