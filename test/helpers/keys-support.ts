import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { resolve } from 'node:path';
import { decodeProtectedHeader, type JSONWebKeySet } from 'jose';
import { basicAuth, type TestServer } from './server.js';

/** Helpers shared by the key tests: tokens, JWKS, and the compiled CLI and server as processes. */

const ROOT = resolve(import.meta.dirname, '../..');

/**
 * Bound on one spawned CLI or server run. A first start on a fresh embedded DATA_DIR initialises
 * PGlite, which takes seconds on an idle machine and far longer on a loaded one.
 */
export const PROCESS_TIMEOUT_MS = 45_000;
/** Jest timeout for a test that spawns a few such processes. */
export const PROCESS_TEST_TIMEOUT_MS = 90_000;

export function kidOf(token: string): string {
  return decodeProtectedHeader(token).kid as string;
}

/** A client_credentials client on `server`, and a function that returns a fresh access token. */
export async function tokenIssuer(server: TestServer, id = 'key-test-client'): Promise<() => Promise<string>> {
  const { clientId, clientSecret } = await server.createClient({ id, grantTypes: ['client_credentials'], scopes: ['read'] });
  return async () => {
    const response = await server.http
      .post('/token')
      .type('form')
      .set('Authorization', basicAuth(clientId, clientSecret as string))
      .send({ grant_type: 'client_credentials' });
    if (response.status !== 200) throw new Error(`token request failed: ${response.status} ${JSON.stringify(response.body)}`);
    return response.body.access_token as string;
  };
}

/** GET /.well-known/jwks.json as a resource server sees it. */
export async function fetchJwks(server: TestServer): Promise<JSONWebKeySet> {
  const response = await server.http.get('/.well-known/jwks.json');
  return JSON.parse(response.text) as JSONWebKeySet;
}

export function kidsOf(jwks: JSONWebKeySet): string[] {
  return jwks.keys.map((k) => k.kid as string).sort();
}

/** `count` distinct free loopback ports (held open together, so they cannot coincide). */
export async function freePorts(count: number): Promise<number[]> {
  const servers = Array.from({ length: count }, () => createServer());
  await Promise.all(servers.map((server) => new Promise<void>((done) => server.listen(0, '127.0.0.1', done))));
  const ports = servers.map((server) => (server.address() as { port: number }).port);
  await Promise.all(servers.map((server) => new Promise<void>((done) => server.close(() => done()))));
  return ports;
}

/** Environment for a child process: the parent's, minus anything that would pick another database. */
function childEnvironment(env: Record<string, string>): NodeJS.ProcessEnv {
  const base: NodeJS.ProcessEnv = { ...process.env };
  for (const name of ['DATABASE_URL', 'DATA_DIR', 'KEY_ENCRYPTION_SECRET', 'PORT', 'ISSUER', 'KEY_ROTATION_INTERVAL', 'KEY_PUBLISH_AHEAD', 'WEB_CONCURRENCY']) delete base[name];
  return { ...base, LOG_LEVEL: 'warn', ...env };
}

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the compiled CLI (`npm run build` first) and collects its output. */
export function runCli(args: string[], env: Record<string, string>, stdin?: string): Promise<CliResult> {
  return runProcess([resolve(ROOT, 'bin/gatehouse.js'), ...args], env, stdin);
}

/** Runs `node …args` to completion; killed (and reported with code null) after `timeoutMs`. */
export function runProcess(args: string[], env: Record<string, string>, stdin?: string, timeoutMs = PROCESS_TIMEOUT_MS): Promise<CliResult> {
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, args, { cwd: ROOT, env: childEnvironment(env), stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', fail);
    child.on('close', (code) => {
      clearTimeout(timer);
      done({ code, stdout, stderr });
    });
    child.stdin.end(stdin ?? '');
  });
}

/** The compiled server, run until it exits by itself (a start that must fail). */
export async function runServerToExit(env: Record<string, string>, timeoutMs = PROCESS_TIMEOUT_MS): Promise<CliResult> {
  const [port] = await freePorts(1);
  return runProcess([resolve(ROOT, 'dist/src/main.js')], { PORT: String(port), HOST: '127.0.0.1', ...env }, undefined, timeoutMs);
}

export interface ServerProcess {
  url: string;
  child: ChildProcess;
  output(): string;
  stop(): Promise<void>;
}

/** Starts `node dist/src/main.js` on a free port and waits (bounded) until /healthz answers. */
export async function startServerProcess(env: Record<string, string>, options: { port?: number; timeoutMs?: number } = {}): Promise<ServerProcess> {
  const port = options.port ?? (await freePorts(1))[0]!;
  const timeoutMs = options.timeoutMs ?? PROCESS_TIMEOUT_MS;
  const url = `http://127.0.0.1:${port}`;
  const child = spawn(process.execPath, [resolve(ROOT, 'dist/src/main.js')], {
    cwd: ROOT,
    env: childEnvironment({ ISSUER: url, ...env, PORT: String(port), HOST: '127.0.0.1' }),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<void>((done) => child.once('exit', () => done()));
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    await exited;
  };
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`server exited with ${child.exitCode}: ${output}`);
    try {
      const response = await fetch(`${url}/healthz`);
      if (response.ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`server did not start within ${timeoutMs} ms: ${output}`);
    }
    await new Promise((done) => setTimeout(done, 100));
  }
  return { url, child, output: () => output, stop };
}
