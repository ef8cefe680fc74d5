import { closeSync, existsSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';
import knexFactory, { type Knex } from 'knex';
import type * as PGliteModule from '@electric-sql/pglite';
import type ClientPgLite from 'knex-pglite';
import { makeDirectories } from '../lib/directories.js';

export type Database = Knex;
/** Anything a repository function can run a query on: the database or an open transaction. */
export type Queryable = Knex | Knex.Transaction;

export class DatabaseInUseError extends Error {
  constructor(
    readonly dataDir: string,
    readonly pid: number,
  ) {
    super(
      `the embedded database in ${dataDir} is held by another Gatehouse process (pid ${pid}): a DATA_DIR serves one server; stop that process, or use another DATA_DIR`,
    );
    this.name = 'DatabaseInUseError';
  }
}

export interface DatabaseOptions {
  /** postgres:// URL; when absent the embedded PGlite database is used. */
  databaseUrl?: string | undefined;
  /** Directory of the embedded database; absent means in memory (tests). */
  dataDir?: string | undefined;
  /** Upper bound for every statement, so a slow database fails a request rather than hangs it. */
  statementTimeoutMs?: number;
  /** Upper bound for opening a connection (default 3 s). */
  connectTimeoutMs?: number;
  /** Upper bound for waiting for a pooled connection (default 5 s). */
  acquireTimeoutMs?: number;
  poolMax?: number;
  /** Where knex's own warnings (pool errors) go; by default knex prints them to the console. */
  logger?: { warn(message: string): void; error(message: string): void } | undefined;
}

/** The part of a node-postgres connection a prepared statement needs. */
interface PgConnection {
  query(config: { name: string; text: string; values: readonly unknown[] }): Promise<{ rows: unknown[] }>;
}

/** What a prepared statement's text is, knex's `?` placeholders already numbered ($1, $2, ...). */
const numberedTexts = new Map<string, string>();

function numberedText(name: string, sql: string): string {
  let text = numberedTexts.get(name);
  if (text === undefined) {
    let count = 0;
    text = sql.replace(/\?/g, () => `$${++count}`);
    numberedTexts.set(name, text);
  }
  return text;
}

/**
 * A statement that PostgreSQL parses and plans once per connection (a named prepared statement)
 * rather than on every call: on the hot paths, parsing and planning cost the database about as much
 * CPU as running the statement (bench/, issue 12). Each name belongs to one text, whose `?` are its
 * bindings in order (no `??`, no escaped `\?`). The result's columns must not follow a table's
 * definition (no `*`): a prepared statement whose result type changes under it, say a migration adds
 * a column while servers run, fails until its connection closes.
 *
 * On PostgreSQL the statement goes to the pooled node-postgres connection (a transaction's own, in a
 * transaction) without knex's raw-query pipeline, which cost about 20 µs of CPU per statement more
 * than the query itself (binding numbering, runner, events). The embedded database goes through knex
 * and ignores the name.
 */
export async function preparedQuery<Row>(db: Queryable, name: string, sql: string, bindings: readonly unknown[]): Promise<{ rows: Row[] }> {
  const statement = `gatehouse_${name}`;
  if ((db as Partial<Knex.Transaction>).isCompleted?.()) throw new Error(`the transaction is already over: ${name} was not run`);
  if ((db.client as { config: Knex.Config }).config.client !== 'pg') {
    return db.raw<{ rows: Row[] }>(sql, bindings as Knex.RawBinding[]).options({ name: statement });
  }
  const text = numberedText(statement, sql);
  // knex's `query` event, which observers of the database (and tests counting statements) listen to.
  if (db.listenerCount('query') > 0) db.emit('query', { sql: text, bindings, options: { name: statement }, method: 'raw' });
  const client = db.client as { acquireConnection(): Promise<PgConnection>; releaseConnection(connection: PgConnection): Promise<unknown> };
  const connection = await client.acquireConnection();
  try {
    return (await connection.query({ name: statement, text, values: bindings })) as { rows: Row[] };
  } finally {
    void client.releaseConnection(connection);
  }
}

interface KnexPool {
  numUsed(): number;
  numPendingAcquires(): number;
}

/** Connections checked out, and requests waiting for one (zero on the embedded database). */
export function connectionPoolUsage(db: Database): { inUse: number; waiting: number } {
  const pool = (db.client as { pool?: KnexPool }).pool;
  return { inUse: pool?.numUsed() ?? 0, waiting: pool?.numPendingAcquires() ?? 0 };
}

/**
 * knex-pglite, and PGlite with it, loaded only when the embedded database is opened: a server on
 * PostgreSQL never holds them in memory. Both from their CommonJS builds, PGlite's being the one
 * knex-pglite loads.
 */
export function embeddedDriver(): { ClientPgLite: typeof ClientPgLite; PGlite: typeof PGliteModule.PGlite } {
  const require = createRequire(import.meta.url);
  return {
    ClientPgLite: require('knex-pglite') as typeof ClientPgLite,
    PGlite: (require('@electric-sql/pglite') as typeof PGliteModule).PGlite,
  };
}

/**
 * The data directory a new DATA_DIR starts from, made by `npm run build` (embedded-template.ts)
 * beside the compiled code: dist/embedded-template.tar.gz, the cluster initdb leaves. PGlite's
 * initdb, which a new DATA_DIR otherwise runs, took about three seconds; unpacking the template
 * about one (docs/performance.md). Absent (running from src/), PGlite runs initdb as before.
 */
export const EMBEDDED_TEMPLATE_PATH = resolve(import.meta.dirname, '..', '..', 'embedded-template.tar.gz');

function embeddedTemplate(): Blob | undefined {
  try {
    return new Blob([readFileSync(EMBEDDED_TEMPLATE_PATH)]);
  } catch {
    return undefined;
  }
}

/**
 * PostgreSQL's shared buffers inside the embedded database. PGlite lives in the Node process, so
 * they are its memory, and it initialises them at every start: the default 128 MB cost about half
 * a second of each start (every CLI command) and 120 MB of resident memory. The files are read
 * through the operating system, whose page cache keeps them too.
 */
const EMBEDDED_SHARED_BUFFERS = '16MB';

/** A PGlite instance with Gatehouse's settings: what every embedded database is opened with. */
export function newEmbeddedPglite(options: { dataDir?: string; loadDataDir?: Blob } = {}): PGliteModule.PGlite {
  const { PGlite } = embeddedDriver();
  return new PGlite({ ...options, startParams: [...PGlite.defaultStartParams, '-c', `shared_buffers=${EMBEDDED_SHARED_BUFFERS}`] });
}

const locks = new WeakMap<Database, () => void>();
/** The PGlite of each embedded database: knex-pglite closes it only if a query ever reached it. */
const embeddedInstances = new WeakMap<Database, PGliteModule.PGlite>();

/** Closes the pool (or PGlite) and releases DATA_DIR. */
export async function closeDatabase(db: Database): Promise<void> {
  try {
    await db.destroy();
    const pglite = embeddedInstances.get(db);
    // One still starting is closed once started; one that could not start has nothing to close.
    if (pglite && !pglite.closed)
      await pglite.waitReady.then(
        () => (pglite.closed ? undefined : pglite.close()),
        () => undefined,
      );
  } finally {
    locks.get(db)?.();
    locks.delete(db);
  }
}

export function openDatabase(options: DatabaseOptions): Database {
  if (options.databaseUrl) {
    const statementTimeout = options.statementTimeoutMs ?? 5000;
    return knexFactory({
      client: 'pg',
      connection: {
        connectionString: options.databaseUrl,
        statement_timeout: statementTimeout,
        // Client-side bound too: a connection whose answers stopped arriving (a network partition,
        // a hung server) fails the query rather than hanging the request.
        query_timeout: statementTimeout + 1000,
        connectionTimeoutMillis: options.connectTimeoutMs ?? 3000,
      } as Knex.PgConnectionConfig,
      pool: { min: 0, max: options.poolMax ?? 10 },
      acquireConnectionTimeout: options.acquireTimeoutMs ?? 5000,
      ...(options.logger ? { log: knexLog(options.logger) } : {}),
    });
  }
  if (!options.dataDir) return embeddedKnex({ pglite: newEmbeddedPglite() }, options.logger);
  const dataDir = resolve(options.dataDir);
  makeDirectories(dataDir, 0o700);
  const releaseLock = lockDataDir(dataDir);
  const pgdata = join(dataDir, 'pgdata');
  // Only under the lock: a directory without PG_VERSION is one no database was made in yet.
  const template = existsSync(join(pgdata, 'PG_VERSION')) ? undefined : embeddedTemplate();
  const db = embeddedKnex({ pglite: newEmbeddedPglite(template ? { dataDir: pgdata, loadDataDir: template } : { dataDir: pgdata }) }, options.logger);
  locks.set(db, releaseLock);
  return db;
}

/**
 * knex on the embedded database, a PGlite instance (newEmbeddedPglite); closeDatabase closes it.
 * `logger` takes knex's warnings (by default printed with their stack).
 */
export function embeddedKnex(connection: { pglite: PGliteModule.PGlite }, logger?: DatabaseOptions['logger']): Database {
  const db = knexFactory({
    client: embeddedDriver().ClientPgLite,
    dialect: 'postgres',
    connection: connection as Knex.StaticConnectionConfig,
    ...(logger ? { log: knexLog(logger) } : {}),
  });
  embeddedInstances.set(db, connection.pglite);
  return db;
}

/** Resolves once the embedded database has started; rejects with PGlite's error if it cannot. PostgreSQL: at once. */
export async function embeddedDatabaseStarted(db: Database): Promise<void> {
  await embeddedInstances.get(db)?.waitReady;
}

function knexLog(logger: NonNullable<DatabaseOptions['logger']>): Knex.Logger {
  // One line: knex appends the stack of a failed connection attempt to its warning.
  const text = (message: unknown): string => (message instanceof Error ? message.message : String(message)).split('\n')[0] ?? '';
  return {
    warn: (message: unknown) => logger.warn(`database: ${text(message)}`),
    error: (message: unknown) => logger.error(`database: ${text(message)}`),
    deprecate: () => undefined,
    debug: () => undefined,
  };
}

/** PGlite is single-process: a lock file in DATA_DIR keeps a second process out. */
function lockDataDir(dataDir: string): () => void {
  const lockPath = join(dataDir, 'gatehouse.lock');
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(lockPath, 'wx', 0o600);
      writeSync(fd, String(process.pid));
      closeSync(fd);
      let released = false;
      const release = (): void => {
        if (released) return;
        released = true;
        rmSync(lockPath, { force: true });
        process.off('exit', release);
      };
      process.on('exit', release);
      return release;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const holder = Number(readFileSync(lockPath, 'utf8').trim());
      if (Number.isInteger(holder) && holder > 0 && holder !== process.pid && isAlive(holder)) {
        throw new DatabaseInUseError(dataDir, holder);
      }
      // The holder is gone (it crashed): the lock is stale.
      rmSync(lockPath, { force: true });
    }
  }
  throw new Error(`could not lock ${dataDir}`);
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
