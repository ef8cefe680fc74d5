import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { closeDatabase, openDatabase } from '../../src/store/database.js';
import { createEmptyDatabase, testDatabaseUrl, type TestDatabase } from './database.js';
import { TEST_KEY_ENCRYPTION_SECRET } from './server.js';

/**
 * The embedded database starts PGlite (WebAssembly) in every CLI process: a few seconds of CPU each,
 * much more on a busy machine. Tests that run the CLI get this long.
 */
export const CLI_TIMEOUT_MS = 60_000;
export const CLI_TEST_TIMEOUT_MS = 180_000;

export const REPO_ROOT = resolve(import.meta.dirname, '..', '..');

export interface ProcessResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs `node <script> …args` from the repository root with only the given environment (plus PATH),
 * feeding `input` to standard input. Kills it after `timeoutMs`.
 */
export function runNode(script: string, args: string[], options: { env?: Record<string, string>; input?: string | undefined; timeoutMs?: number } = {}): Promise<ProcessResult> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, [script, ...args], {
      cwd: REPO_ROOT,
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', LOG_LEVEL: 'silent', ...options.env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? CLI_TIMEOUT_MS);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolvePromise({ code, stdout, stderr });
    });
    child.stdin.end(options.input ?? '');
  });
}

/** `gatehouse …args` (the compiled CLI, bin/gatehouse.js). */
export function runGatehouse(args: string[], options: { env?: Record<string, string>; input?: string | undefined; timeoutMs?: number } = {}): Promise<ProcessResult> {
  return runNode('bin/gatehouse.js', args, options);
}

/** A database the CLI can be pointed at through its environment, and opened in-process afterwards. */
export interface CliTarget {
  name: string;
  env: Record<string, string>;
  /** Opens the same database in this process (take care: the embedded one admits one process). */
  open(): Promise<{ database: TestDatabase; keyEncryptionSecret: string }>;
  dispose(): Promise<void>;
}

/** A fresh embedded DATA_DIR in a temporary directory. */
export function embeddedTarget(): CliTarget {
  const dataDir = mkdtempSync(join(tmpdir(), 'gatehouse-cli-'));
  return {
    name: 'embedded (DATA_DIR)',
    env: { DATA_DIR: dataDir },
    async open() {
      const db = openDatabase({ dataDir });
      const keyEncryptionSecret = readFileSync(join(dataDir, 'key-encryption-secret'), 'utf8').trim();
      return { database: { db, url: undefined, close: () => closeDatabase(db) }, keyEncryptionSecret };
    },
    async dispose() {
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** A fresh PostgreSQL database (needs TEST_DATABASE_URL). */
export async function postgresTarget(): Promise<CliTarget> {
  const empty = await createEmptyDatabase();
  const url = empty.url as string;
  return {
    name: 'PostgreSQL (DATABASE_URL)',
    env: { DATABASE_URL: url, KEY_ENCRYPTION_SECRET: TEST_KEY_ENCRYPTION_SECRET },
    async open() {
      const db = openDatabase({ databaseUrl: url });
      return { database: { db, url, close: () => closeDatabase(db) }, keyEncryptionSecret: TEST_KEY_ENCRYPTION_SECRET };
    },
    dispose: () => empty.close(),
  };
}

/** The databases the CLI tests run against: always embedded, and PostgreSQL when the suite has one. */
export const cliTargetFactories: { name: string; create: () => Promise<CliTarget> }[] = [
  { name: 'embedded (DATA_DIR)', create: async () => embeddedTarget() },
  ...(testDatabaseUrl ? [{ name: 'PostgreSQL (DATABASE_URL)', create: postgresTarget }] : []),
];

/** Asserts a failed command: non-zero exit, nothing on stdout, exactly one line on stderr; returns it. */
export function expectOneLineFailure(result: ProcessResult): string {
  expect(result.code).not.toBe(0);
  expect(result.code).not.toBeNull();
  const lines = result.stderr.trimEnd().split('\n');
  expect(lines).toHaveLength(1);
  expect(lines[0]).not.toBe('');
  return lines[0] as string;
}
