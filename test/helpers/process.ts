import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { join, resolve } from 'node:path';

/**
 * The compiled server and CLI (`node bin/serve.cjs` as `npm start` runs it, `node bin/gatehouse.js`) as processes, for
 * the system tests. Every child gets only PATH, HOME and what the test gives it: nothing of the
 * test's own environment (TEST_DATABASE_URL, DATABASE_URL, DATA_DIR …) leaks in.
 */

export const REPO_ROOT = resolve(import.meta.dirname, '..', '..');
/** The compiled server; the build is checked against it. */
const BUILT_SERVER = join(REPO_ROOT, 'dist', 'src', 'main.js');
/** What `npm start` runs: sizes the libuv pool, then loads BUILT_SERVER. */
const SERVER_ENTRY = join(REPO_ROOT, 'bin', 'serve.cjs');
const CLI_ENTRY = join(REPO_ROOT, 'bin', 'gatehouse.js');

/**
 * Bound on one process: a CLI run, or a server's start until it is ready. The embedded database
 * starts PGlite (WebAssembly) in every such process: a few seconds of CPU each, much more on a busy
 * machine. A process that takes longer is killed (a run) or reported (a start).
 */
export const PROCESS_TIMEOUT_MS = 60_000;
/** Jest timeout for a test that runs a few such processes one after another. */
export const PROCESS_TEST_TIMEOUT_MS = 3 * PROCESS_TIMEOUT_MS;

function newestMtime(directory: string): number {
  let newest = 0;
  for (const entry of readdirSync(directory, { withFileTypes: true })) {
    const path = join(directory, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(path) : statSync(path).mtimeMs);
  }
  return newest;
}

let built: Promise<void> | undefined;

/**
 * Compiles dist/ when it is missing or older than src/ (CI builds it in `npm ci`). Test files run in
 * parallel workers, so a lock directory keeps two builds from writing dist/ at once. Once per file.
 */
export function ensureBuilt(): Promise<void> {
  built ??= build();
  return built;
}

async function build(): Promise<void> {
  const fresh = (): boolean =>
    existsSync(BUILT_SERVER) && statSync(BUILT_SERVER).mtimeMs >= Math.max(newestMtime(join(REPO_ROOT, 'src')), newestMtime(join(REPO_ROOT, 'migrations')));
  if (fresh()) return;
  const lock = join(REPO_ROOT, 'dist', '.gatehouse-build-lock');
  mkdirSync(join(REPO_ROOT, 'dist'), { recursive: true });
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
    // The build of `npm run build`: compile, and copy the console's files into dist/.
    const result = spawnSync(process.execPath, [join(REPO_ROOT, 'scripts', 'build.js')], {
      cwd: REPO_ROOT,
      encoding: 'utf8',
    });
    if (result.status !== 0 || !existsSync(BUILT_SERVER)) throw new Error(`npm run build failed:\n${result.stdout}${result.stderr}`);
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}

/** `count` distinct free loopback ports (held open together, so they cannot coincide). */
export async function freePorts(count: number): Promise<number[]> {
  const servers = Array.from({ length: count }, () => createServer());
  await Promise.all(servers.map((server) => new Promise<void>((done) => server.listen(0, '127.0.0.1', done))));
  const ports = servers.map((server) => (server.address() as AddressInfo).port);
  await Promise.all(servers.map((server) => new Promise<void>((done) => server.close(() => done()))));
  return ports;
}

export async function freePort(): Promise<number> {
  return (await freePorts(1))[0] as number;
}

/**
 * Node options of every child. `--liftoff-only`: V8 compiles WebAssembly with its baseline compiler
 * only. The embedded database is PGlite, PostgreSQL compiled to WebAssembly, and a CLI run lives a
 * second or two: the optimizing compiler would spend more CPU on it, in background threads, than it
 * could ever save (about half of each run's CPU; the tests run several dozen). The code is the same;
 * only how fast it runs differs. Production runs without it.
 */
const NODE_OPTIONS = ['--liftoff-only'];

/** The environment of every child: PATH and HOME, silent logs, then what the test gives. */
function childEnvironment(env: Record<string, string>): Record<string, string> {
  return { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', LOG_LEVEL: 'silent', ...env };
}

export interface ProcessResult {
  /** Exit code; null when the process was killed (by the timeout, or a signal). */
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  env?: Record<string, string>;
  /** Written to standard input, which is then closed. */
  input?: string | undefined;
  timeoutMs?: number | undefined;
}

/** Runs `node <script> …args` from the repository root to its end; killed after `timeoutMs`. */
export async function runNode(script: string, args: string[], options: RunOptions = {}): Promise<ProcessResult> {
  await ensureBuilt();
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, [...NODE_OPTIONS, script, ...args], {
      cwd: REPO_ROOT,
      env: childEnvironment(options.env ?? {}),
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? PROCESS_TIMEOUT_MS);
    child.on('error', fail);
    child.on('close', (code) => {
      clearTimeout(timer);
      done({ code, stdout, stderr });
    });
    child.stdin.on('error', () => undefined);
    child.stdin.end(options.input ?? '');
  });
}

/** The README's bootstrap of the first admin: a client_credentials client holding every admin scope. */
export const BOOTSTRAP_ADMIN_CLIENT = [
  'client',
  'create',
  '--id',
  'admin-cli',
  '--grants',
  'client_credentials',
  '--scopes',
  'admin:clients admin:users admin:tokens admin:keys',
  '--json',
];

/** `gatehouse …args`: the compiled CLI, bin/gatehouse.js. */
export function runCli(args: string[], options: RunOptions = {}): Promise<ProcessResult> {
  return runNode(CLI_ENTRY, args, options);
}

/** The compiled server, run until it exits by itself (a start that must fail). */
export async function runServerToExit(env: Record<string, string>, options: { timeoutMs?: number } = {}): Promise<ProcessResult> {
  const port = await freePort();
  return runNode(SERVER_ENTRY, [], { env: { PORT: String(port), HOST: '127.0.0.1', ...env }, timeoutMs: options.timeoutMs });
}

/** Asserts a failed command: non-zero exit, nothing on stdout, exactly one line on stderr; returns it. */
export function expectOneLineFailure(result: ProcessResult): string {
  expect({ code: result.code === 0 ? 0 : result.code === null ? 'killed' : 'non-zero', stdout: result.stdout }).toEqual({ code: 'non-zero', stdout: '' });
  const lines = result.stderr.trimEnd().split('\n');
  expect(lines).toHaveLength(1);
  // docs/cli.md: the one line starts with "gatehouse:", usage errors included.
  expect(lines[0]).toMatch(/^gatehouse: \S/);
  return lines[0] as string;
}

export interface ServerProcess {
  child: ChildProcess;
  port: number;
  /** http://127.0.0.1:port, also its ISSUER unless the test set one. */
  baseUrl: string;
  /** Everything the process wrote to stdout (its log lines) so far. */
  stdout(): string;
  /** Everything the process wrote to stderr so far. */
  stderr(): string;
  /** Resolves once stdout holds `count` lines that match `pattern` (a log line the test waits for). */
  waitForLogLines(pattern: RegExp, count?: number): Promise<void>;
  /** Resolves with the exit code (or signal) when the process has exited. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** SIGTERM (or `signal`), then waits for the exit. */
  stop(signal?: NodeJS.Signals): Promise<void>;
  /** SIGKILL if still running, then waits for the exit; safe to call twice. */
  kill(): Promise<void>;
}

/**
 * Starts `node bin/serve.cjs` (what `npm start` runs) on 127.0.0.1 (a free port unless given) and waits until /readyz
 * answers 200. `env` says where its database is (a target's env) and anything else; rate limits and
 * the login lock are off unless the test sets them, since tests send many requests from one address.
 */
export async function startServerProcess(
  env: Record<string, string>,
  options: { port?: number; timeoutMs?: number; /** Leave ISSUER unset (its default, http://localhost:$PORT). */ defaultIssuer?: boolean | undefined } = {},
): Promise<ServerProcess> {
  await ensureBuilt();
  const port = options.port ?? (await freePort());
  const baseUrl = `http://127.0.0.1:${port}`;
  const child = spawn(process.execPath, [...NODE_OPTIONS, SERVER_ENTRY], {
    cwd: REPO_ROOT,
    env: childEnvironment({
      ...(options.defaultIssuer ? {} : { ISSUER: baseUrl }),
      RATE_LIMIT_PER_IP: '0',
      LOCKOUT_THRESHOLD: '0',
      ...env,
      PORT: String(port),
      HOST: env.HOST ?? '127.0.0.1',
    }),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  const waiters = new Set<() => void>();
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
    stdout += chunk;
    for (const check of [...waiters]) check();
  });
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((done) => child.once('exit', (code, signal) => done({ code, signal })));
  let running = true;
  void exited.then(() => {
    running = false;
    for (const check of [...waiters]) check();
  });
  const handle: ServerProcess = {
    child,
    port,
    baseUrl,
    stdout: () => stdout,
    stderr: () => stderr,
    waitForLogLines(pattern, count = 1) {
      return new Promise((done, fail) => {
        const check = (): void => {
          const seen = stdout.split('\n').filter((line) => pattern.test(line)).length;
          if (seen >= count) {
            waiters.delete(check);
            done();
          } else if (!running) {
            waiters.delete(check);
            fail(new Error(`the server exited after ${seen} of ${count} log lines matching ${pattern}: ${stderr}`));
          }
        };
        waiters.add(check);
        check();
      });
    },
    exited,
    async stop(signal = 'SIGTERM') {
      if (running) child.kill(signal);
      await exited;
    },
    async kill() {
      if (running) child.kill('SIGKILL');
      await exited;
    },
  };
  const timeoutMs = options.timeoutMs ?? PROCESS_TIMEOUT_MS;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (!running) throw new Error(`the server exited during start: ${stderr}`);
    try {
      const response = await fetch(`${baseUrl}/readyz`);
      if (response.status === 200) return handle;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      await handle.kill();
      throw new Error(`the server was not ready within ${timeoutMs} ms: ${stderr}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}
