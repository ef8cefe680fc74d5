import type { Logger } from 'pino';
import type { Config } from './config.js';
import { readOrCreateEmbeddedSecret } from './keys/embedded-secret.js';
import { closeDatabase, openDatabase, type Database } from './store/database.js';
import { migrateToLatest } from './store/migrate.js';

/** What the server and the CLI both do first: complete the config, open and migrate the database. */
export async function openConfiguredDatabase(config: Config, options: { migrate: boolean; logger?: Logger }): Promise<{ config: Config; db: Database }> {
  const complete: Config = config.keyEncryptionSecret
    ? config
    : Object.freeze({ ...config, keyEncryptionSecret: readOrCreateEmbeddedSecret(config.dataDir) });
  const db = openDatabase({ databaseUrl: config.databaseUrl, dataDir: config.dataDir, logger: options.logger });
  try {
    if (options.migrate) await migrateToLatest(db);
  } catch (error) {
    await closeDatabase(db);
    throw error;
  }
  return { config: complete, db };
}
