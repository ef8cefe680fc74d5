import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import knexFactory from 'knex';
import { testDatabaseUrl, withDatabaseName } from './database.js';
import { TEST_KEY_ENCRYPTION_SECRET } from './server.js';

/** Tests that run the real server process: `node dist/src/main.js` against its own PostgreSQL database. */

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const SERVER_ENTRY = join(ROOT, 'dist', 'src', 'main.js');

/** PostgreSQL always runs locally (and in CI); TEST_DATABASE_URL names it when set. */
export const POSTGRES_URL = testDatabaseUrl ?? 'postgres://postgres@127.0.0.1:5432/postgres';

function newestMtime(directory: string): number {
  let newest = 0;
  for (const entry of readdirSync(directory, { withFileTypes: true })) {
    const path = join(directory, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(path) : statSync(path).mtimeMs);
  }
  return newest;
}

/**
 * Compiles dist/ when it is missing or older than src/ (CI builds it in `npm ci`). Test files run in
 * parallel workers, so a lock directory keeps two builds from writing dist/ at once.
 */
export async function ensureBuilt(): Promise<void> {
  const fresh = (): boolean =>
    existsSync(SERVER_ENTRY) && statSync(SERVER_ENTRY).mtimeMs >= Math.max(newestMtime(join(ROOT, 'src')), newestMtime(join(ROOT, 'migrations')));
  if (fresh()) return;
  const lock = join(ROOT, 'node_modules', '.gatehouse-build-lock');
  const deadline = Date.now() + 120_000;
  for (;;) {
    try {
      mkdirSync(lock);
      break;
    } catch {
      // Another worker is building; a lock older than two minutes is left over from a killed run.
      const age = Date.now() - (statSync(lock, { throwIfNoEntry: false })?.mtimeMs ?? Date.now());
      if (age > 120_000) rmSync(lock, { recursive: true, force: true });
      if (Date.now() > deadline) throw new Error('timed out waiting for another test to build dist/');
      await new Promise((r) => setTimeout(r, 250));
    }
  }
  try {
    if (fresh()) return;
    const result = spawnSync(process.execPath, [join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.build.json'], { cwd: ROOT, encoding: 'utf8' });
    if (result.status !== 0 || !existsSync(SERVER_ENTRY)) throw new Error(`npm run build failed:\n${result.stdout}${result.stderr}`);
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}

export interface PostgresDatabase {
  url: string;
  drop(): Promise<void>;
}

/** A fresh database of this test's own; drop() removes it (and only it). */
export async function createPostgresDatabase(): Promise<PostgresDatabase> {
  const admin = knexFactory({ client: 'pg', connection: POSTGRES_URL, pool: { min: 0, max: 1 } });
  const name = `gatehouse_test_${randomBytes(6).toString('hex')}`;
  await admin.raw(`CREATE DATABASE ${name}`);
  return {
    url: withDatabaseName(POSTGRES_URL, name),
    async drop() {
      await admin.raw(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await admin.destroy();
    },
  };
}

export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((r) => server.close(() => r()));
  return port;
}

export interface ServerProcess {
  child: ChildProcess;
  baseUrl: string;
  /** Everything the process wrote to stderr so far. */
  stderr(): string;
  /** Everything the process wrote to stdout (its log lines) so far. */
  stdout(): string;
  /** Resolves with the exit code (or signal) when the process has exited. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** SIGKILL if still running; safe to call twice. */
  kill(): Promise<void>;
}

/** Starts `node dist/src/main.js` on `port` and waits until /readyz answers 200. */
export async function startServerProcess(databaseUrl: string, port: number, env: Record<string, string> = {}): Promise<ServerProcess> {
  const child = spawn(process.execPath, [SERVER_ENTRY], {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH ?? '',
      DATABASE_URL: databaseUrl,
      KEY_ENCRYPTION_SECRET: TEST_KEY_ENCRYPTION_SECRET,
      PORT: String(port),
      HOST: '127.0.0.1',
      LOG_LEVEL: 'silent',
      RATE_LIMIT_PER_IP: '0',
      LOCKOUT_THRESHOLD: '0',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  let stdout = '';
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  child.stdout?.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((r) => child.once('exit', (code, signal) => r({ code, signal })));
  let done = false;
  void exited.then(() => (done = true));
  const baseUrl = `http://127.0.0.1:${port}`;
  const handle: ServerProcess = {
    child,
    baseUrl,
    stderr: () => stderr,
    stdout: () => stdout,
    exited,
    async kill() {
      if (!done) child.kill('SIGKILL');
      await exited;
    },
  };
  const deadline = Date.now() + 20_000;
  for (;;) {
    if (done) throw new Error(`the server exited during start: ${stderr}`);
    try {
      const response = await fetch(`${baseUrl}/readyz`);
      if (response.status === 200) return handle;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      await handle.kill();
      throw new Error(`the server did not become ready: ${stderr}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}
