import { accessSync, chmodSync, constants, statSync } from 'node:fs';
import { ConfigError, type Config } from './config.js';
import { KeyDecryptionError } from './keys/key-crypto.js';
import { readOrCreateEmbeddedSecret } from './keys/embedded-secret.js';
import { makeDirectories } from './lib/directories.js';
import { closeDatabase, DatabaseInUseError, embeddedDatabaseStarted, openDatabase, type Database, type DatabaseOptions } from './store/database.js';

export { DatabaseInUseError };
import { migrateToLatest } from './store/migrate.js';

/** What the server and the CLI both do first: complete the config, open and migrate the database. */
export async function openConfiguredDatabase(
  config: Config,
  options: { migrate: boolean; logger?: DatabaseOptions['logger'] },
): Promise<{ config: Config; db: Database }> {
  if (!config.databaseUrl) prepareDataDir(config.dataDir);
  const complete: Config = config.keyEncryptionSecret ? config : Object.freeze({ ...config, keyEncryptionSecret: readOrCreateEmbeddedSecret(config.dataDir) });
  const db = openDatabase({ databaseUrl: config.databaseUrl, dataDir: config.dataDir, logger: options.logger });
  try {
    if (!config.databaseUrl)
      await embeddedDatabaseStarted(db).catch((error: unknown) => {
        throw embeddedStartError(config.dataDir, error);
      });
    if (options.migrate) await migrateToLatest(db);
  } catch (error) {
    await closeDatabase(db);
    throw error;
  }
  return { config: complete, db };
}

/**
 * PGlite could not start PostgreSQL on the files in DATA_DIR (damaged, or left by another
 * PostgreSQL version): a setting the operator has to look at, in one line.
 */
function embeddedStartError(dataDir: string, error: unknown): ConfigError {
  const reason = error instanceof Error ? (error.message.split('\n')[0] ?? error.name) : String(error);
  return new ConfigError(
    'DATA_DIR',
    `cannot start the embedded database in ${dataDir} (${reason}); restore DATA_DIR from a backup or point it at another directory`,
  );
}

/**
 * DATA_DIR exists (made where missing), is a directory and can be written: else a ConfigError naming
 * it. It is made private (mode 0700) whoever opens it first, server or CLI: PGlite writes its files
 * readable and writable by everyone (0666), so the directory is what keeps other users out.
 */
function prepareDataDir(dataDir: string): void {
  try {
    makeDirectories(dataDir, 0o700);
    if (!statSync(dataDir).isDirectory()) throw Object.assign(new Error('not a directory'), { code: 'ENOTDIR' });
    accessSync(dataDir, constants.W_OK);
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code ?? (error instanceof Error ? error.message : String(error));
    throw new ConfigError('DATA_DIR', `cannot keep the embedded database in ${dataDir} (${reason})`);
  }
  try {
    chmodSync(dataDir, 0o700);
  } catch {
    // Another user's directory (a shared mount): the server warns about it when it starts.
  }
}

/** Closes the pool (or PGlite) and releases DATA_DIR. */
export function closeConfiguredDatabase(db: Database): Promise<void> {
  return closeDatabase(db);
}

/** Applies the migrations not yet applied; returns their names. */
export function applyMigrations(db: Database): Promise<string[]> {
  return migrateToLatest(db);
}

/** Network errors of a connection attempt (node:net, DNS). */
const CONNECTION_ERROR_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ENOTFOUND', 'EAI_AGAIN', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH']);
/** PostgreSQL's answers to a connection it will not take: no such database, authentication failed, not accepting connections. */
const CONNECTION_REFUSED_SQLSTATES = new Set(['3D000', '28P01', '28000', '57P03']);

/**
 * Why PostgreSQL could not be reached or would not take the connection, or undefined when `error`
 * is something else. The reason only: never the URL, which may hold a password.
 */
function databaseConnectionProblem(error: unknown): string | undefined {
  if (!(error instanceof Error)) return undefined;
  const code = (error as { code?: unknown }).code;
  const reached =
    (typeof code === 'string' && (CONNECTION_ERROR_CODES.has(code) || CONNECTION_REFUSED_SQLSTATES.has(code))) ||
    error.name === 'KnexTimeoutError' ||
    /^Connection terminated/.test(error.message);
  return reached ? (error.message.split('\n')[0] ?? error.name) : undefined;
}

/**
 * The one-line message of a failure the operator can fix (a bad setting, DATA_DIR held by another
 * process, a wrong KEY_ENCRYPTION_SECRET, a DATABASE_URL that leads to no usable database);
 * undefined for anything else.
 */
export function operatorErrorMessage(error: unknown): string | undefined {
  if (error instanceof ConfigError || error instanceof DatabaseInUseError || error instanceof KeyDecryptionError) return error.message;
  const connection = databaseConnectionProblem(error);
  if (connection !== undefined) return `DATABASE_URL: cannot use the database: ${connection}`;
  return undefined;
}
