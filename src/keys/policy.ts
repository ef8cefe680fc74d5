import type { Config } from '../config.js';
import type { Clock } from '../lib/clock.js';
import type { Database } from '../store/database.js';
import { KeyService } from './key-service.js';
import type { NewKeyPair } from './rotation.js';

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

/** The key service the configuration describes. */
export function createKeyService(
  config: Pick<Config, 'keyEncryptionSecret' | 'keyRotationInterval' | 'keyPublishAhead' | 'accessTokenTtl'>,
  db: Database,
  clock: Clock,
  newKeyPair?: NewKeyPair,
): KeyService {
  if (!config.keyEncryptionSecret) throw new Error('KEY_ENCRYPTION_SECRET is not set');
  return new KeyService(
    db,
    {
      encryptionSecret: config.keyEncryptionSecret,
      rotationInterval: config.keyRotationInterval,
      publishAhead: config.keyPublishAhead,
      publicationLag: keyRefreshIntervalMs(config) / 1000,
      retention: config.accessTokenTtl + KEY_RETENTION_LEEWAY,
      newKeyPair,
    },
    clock,
  );
}
