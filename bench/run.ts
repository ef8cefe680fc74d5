/**
 * `npm run bench [-- --quick | --growth] [-- --only=refresh,jwks] [-- --profile]`
 *
 * Starts Gatehouse (`node bin/serve.cjs`, what `npm start` runs) as its own processes — one worker with the bench
 * settings, one worker with the DEFAULT configuration (per-IP limit and lockout on, load from many
 * addresses), and `WEB_CONCURRENCY=2` — on a fresh database created on the PostgreSQL server of
 * DATABASE_URL (dropped afterwards), or embedded in a temporary DATA_DIR; starts the peers
 * (@node-oauth/oauth2-server on the same PostgreSQL, node-oidc-provider in memory) and a bare Koa
 * app; then, workload by workload, drives each of them in turn with autocannon from a separate load
 * process (bench/load.ts), so that every ratio compares figures measured minutes apart at most.
 * Per run: req/s, p50/p99, errors, server CPU µs per request (utime+stime of the server's process
 * tree from /proc, threadpool included, ÷ requests) and peak RSS. Results go to
 * bench/results/<date>.json (gitignored). See docs/performance.md.
 */
import { fork, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync, readdirSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { loadConfig } from '../src/config.js';
import { openConfiguredDatabase } from '../src/runtime.js';
import { closeDeps, createDeps } from '../src/deps.js';
import { createLogger } from '../src/logger.js';
import { closeDatabase } from '../src/store/database.js';
import { CLI_ACTOR } from '../src/services/actor.js';
import { createAdminDeps } from '../src/admin-deps.js';
import { createClient } from '../src/services/clients.js';
import { createUser } from '../src/services/users.js';
import { dpopProofMaker, newDpopKey } from './dpop-proof.js';
import type { WorkloadData } from './load.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const quick = args.includes('--quick');
const growth = args.includes('--growth');
const profile = args.includes('--profile');
const only = args
  .find((a) => a.startsWith('--only='))
  ?.slice(7)
  .split(',');

/** BENCH_CONNECTIONS (e.g. `200` or `50,200`) overrides the concurrency levels. */
const CONNECTIONS = process.env.BENCH_CONNECTIONS ? process.env.BENCH_CONNECTIONS.split(',').map((n) => Number(n)) : quick ? [50] : [10, 50, 200];
const DURATION = Number(process.env.BENCH_DURATION ?? (quick ? 3 : 8));
const BOUND_SECONDS = quick ? 2 : 5;
/** An unmeasured run of each workload (password aside: argon2 needs no warming) on each server before its first measured one (BENCH_WARMUP seconds). */
const WARMUP_SECONDS = Number(process.env.BENCH_WARMUP ?? (quick ? 1 : 2));
// Ports of this run: BENCH_PORT_BASE, or a block picked by process id, so that runs sharing a machine
// (other worktrees, test suites) do not answer each other's requests. Below Linux's ephemeral range
// (32768-60999): a port in it can be the local end of any outgoing connection (autocannon's, the
// pools'), and a server started on it then fails with EADDRINUSE (it did once, on 42920).
const PORT_BASE = Number(process.env.BENCH_PORT_BASE ?? 22000 + (process.pid % 500) * 10);
const PORTS = {
  server: PORT_BASE,
  bare: PORT_BASE + 1,
  peer: PORT_BASE + 2,
  oidc: PORT_BASE + 3,
  defaults: PORT_BASE + 4,
  twoWorkers: PORT_BASE + 5,
  redis: PORT_BASE + 6,
};
const SERVER_URL = `http://127.0.0.1:${PORTS.server}`;
/** The plain workload each variant's ratio is taken against (see `alternating` in main). */
const PLAIN_OF: Partial<Record<string, Workload>> = {
  refresh_dpop: 'refresh',
  client_credentials_dpop: 'client_credentials',
  client_credentials_private_key_jwt: 'client_credentials',
  client_credentials_private_key_jwt_rs256: 'client_credentials',
};
/** Runs of each, alternating, behind a variant's ratio to its plain workload. */
const ALTERNATING_ROUNDS = Number(process.env.BENCH_ALTERNATING_ROUNDS ?? 3);
/**
 * Rounds of every other workload: each round runs it on every server in turn, and each server's row
 * is the mean of its rounds, so a drift of the machine's speed weighs on Gatehouse and its peers alike.
 */
const ROUNDS = Math.max(1, Number(process.env.BENCH_ROUNDS ?? 1));
/** Load for the default configuration comes from this many addresses (X-Forwarded-For, TRUST_PROXY=true). */
const SOURCE_ADDRESSES = 4096;
const CLOCK_TICKS = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim()) || 100;

const CLIENT = { id: 'bench-client', secret: randomBytes(32).toString('base64url') };
/** A public client (a mobile or browser app) for the DPoP-bound refresh workload. */
const PUBLIC_CLIENT = { id: 'bench-public' };
const INTROSPECTOR = { id: 'bench-introspector', secret: randomBytes(32).toString('base64url') };
/**
 * private_key_jwt clients (RFC 7523): each with a key pair, the public half registered with it.
 * ES256 and RS256, since their checks differ fourfold in cost (a P-256 verification against an
 * RSA-2048 one) and clients use both: RS256 is what Auth0, Okta and Keycloak make by default.
 */
const keyClient = (id: string, alg: 'ES256' | 'RS256') => {
  const { privateKey, publicKey } = alg === 'ES256' ? generateKeyPairSync('ec', { namedCurve: 'P-256' }) : generateKeyPairSync('rsa', { modulusLength: 2048 });
  return { id, alg, kid: `${id}-1`, privateJwk: privateKey.export({ format: 'jwk' }), publicJwk: publicKey.export({ format: 'jwk' }) };
};
const KEY_CLIENT = keyClient('bench-key-client', 'ES256');
const RSA_KEY_CLIENT = keyClient('bench-key-client-rs256', 'RS256');
const USER = { username: 'bench-user', password: 'bench-password-1234' };
const basic = (c: { id: string; secret: string }): string =>
  `Basic ${Buffer.from(`${encodeURIComponent(c.id)}:${encodeURIComponent(c.secret)}`).toString('base64')}`;

const started: ChildProcess[] = [];
const cleanups: (() => Promise<void> | void)[] = [];
const log = (message: string): void => void process.stderr.write(`[bench] ${message}\n`);

// ---------------------------------------------------------------- processes

async function waitFor(url: string, child: ChildProcess, seconds = 60): Promise<void> {
  const end = Date.now() + seconds * 1000;
  while (Date.now() < end) {
    if (child.exitCode !== null) throw new Error(`${url}: the process exited with ${child.exitCode}`);
    try {
      const response = await fetch(url);
      if (response.status < 500) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`${url} did not come up within ${seconds} s`);
}

function startProcess(command: string, argv: string[], env: Record<string, string | undefined>): ChildProcess {
  const child = spawn(command, argv, { cwd: root, env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'inherit'] });
  started.push(child);
  return child;
}

async function stopProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
  await exited;
  clearTimeout(timer);
}

/** Every pid of a process tree (cluster workers are children of the primary). */
function treePids(pid: number): number[] {
  const pids = [pid];
  try {
    for (const task of readdirSync(`/proc/${pid}/task`)) {
      const children = readFileSync(`/proc/${pid}/task/${task}/children`, 'utf8').trim();
      for (const child of children ? children.split(/\s+/) : []) pids.push(...treePids(Number(child)));
    }
  } catch {
    // gone
  }
  return pids;
}

/** CPU time (user + system, every thread) of a process tree so far, in microseconds. */
function cpuMicros(pid: number): number {
  let ticks = 0;
  for (const one of treePids(pid)) {
    try {
      // Fields after the command name (which may hold spaces): utime and stime are the 12th and 13th.
      const fields = readFileSync(`/proc/${one}/stat`, 'utf8').split(') ')[1]!.split(' ');
      ticks += Number(fields[11]) + Number(fields[12]);
    } catch {
      // gone
    }
  }
  return (ticks * 1e6) / CLOCK_TICKS;
}

/**
 * CPU time so far of every PostgreSQL process on this machine (a local DATABASE_URL): the database's
 * share of a request, which the server's own CPU time leaves out. Other databases' work counts too,
 * so it is meaningful on a machine that runs nothing else meanwhile.
 */
function postgresCpuMicros(): number {
  let ticks = 0;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      if (!stat.includes('(postgres)')) continue;
      const fields = stat.split(') ')[1]!.split(' ');
      // utime, stime, and cutime, cstime: the postmaster's ended backends (connections closed meanwhile).
      ticks += Number(fields[11]) + Number(fields[12]) + Number(fields[13]) + Number(fields[14]);
    } catch {
      // gone
    }
  }
  return (ticks * 1e6) / CLOCK_TICKS;
}

function rssKb(pid: number): number {
  try {
    const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) : 0;
  } catch {
    return 0;
  }
}

/** Samples the server tree's RSS every 200 ms until stopped: peak of the sum and of one process. */
function sampleRss(pid: number): () => { totalMb: number; processMb: number } {
  let total = 0;
  let single = 0;
  const sample = (): void => {
    const values = treePids(pid).map(rssKb);
    total = Math.max(
      total,
      values.reduce((a, b) => a + b, 0),
    );
    single = Math.max(single, ...values);
  };
  sample();
  const timer = setInterval(sample, 200);
  return () => {
    clearInterval(timer);
    sample();
    return { totalMb: Math.round(total / 1024), processMb: Math.round(single / 1024) };
  };
}

// ---------------------------------------------------------------- the load process

let loadProcess: ChildProcess | undefined;
let jobId = 0;
const pending = new Map<number, { resolve: (value: any) => void; reject: (error: Error) => void }>();

async function startLoadProcess(): Promise<void> {
  loadProcess = fork(join(root, 'bench/load.ts'), [], { cwd: root, execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  started.push(loadProcess);
  await new Promise<void>((resolve, reject) => {
    loadProcess!.on('message', (message: any) => {
      if (message.ready) return resolve();
      const waiting = pending.get(message.id);
      pending.delete(message.id);
      if (message.error) waiting?.reject(new Error(message.error));
      else waiting?.resolve(message.result);
    });
    loadProcess!.once('exit', (code) => reject(new Error(`load process exited with ${code}`)));
  });
}

function job<T>(spec: Record<string, unknown>): Promise<T> {
  const id = ++jobId;
  return new Promise<T>((resolve, reject) => {
    pending.set(id, { resolve, reject });
    loadProcess!.send({ ...spec, id });
  });
}

interface HttpResult {
  requests: number;
  rps: number;
  p50: number;
  p99: number;
  errors: number;
  non2xx: number;
  statusCodes: Record<string, number>;
  /** The load generator's own CPU (user + system) while autocannon ran: proofs and assertions made before it left out. */
  loadCpuMicros: number;
}
// A password grant takes an argon2 verification (~30 ms of a core): at 50+ connections the first
// answers come after seconds, so its window is at least 10 s or it measures the ramp-up only.
const http = (workload: string, url: string, connections: number, data: WorkloadData, duration = DURATION): Promise<HttpResult> =>
  job<HttpResult>({ kind: 'http', workload, url, connections, duration: workload === 'password' ? Math.max(10, duration) : duration, data });

// ---------------------------------------------------------------- helpers against the server

/** One of SOURCE_ADDRESSES client addresses (10.0.0.0/16), as a proxy would forward it. */
const sourceAddress = (n: number): string => `10.0.${(n >> 8) & 255}.${n & 255}`;

async function post(path: string, body: Record<string, string>, authorization: string, base = SERVER_URL): Promise<any> {
  const response = await fetch(`${base}${path}`, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      authorization,
      'x-forwarded-for': sourceAddress(Math.floor(Math.random() * SOURCE_ADDRESSES)),
    },
    body: new URLSearchParams(body).toString(),
  });
  if (response.status !== 200) throw new Error(`${path}: ${response.status} ${await response.text()}`);
  return response.json();
}

/** `count` results of `make`, `concurrency` at a time. */
async function many<T>(count: number, concurrency: number, make: () => Promise<T>): Promise<T[]> {
  const out: T[] = [];
  const worker = async (): Promise<void> => {
    while (out.length < count) {
      out.push(await make());
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return out.slice(0, count);
}

const passwordGrant = (base = SERVER_URL, client = CLIENT): Promise<any> =>
  post('/token', { grant_type: 'password', username: USER.username, password: USER.password }, basic(client), base);

// ---------------------------------------------------------------- database

async function createBenchDatabase(serverUrl: string): Promise<string> {
  const name = `gatehouse_bench_${process.pid}_${Date.now()}`;
  const admin = new pg.Client({ connectionString: serverUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  cleanups.push(async () => {
    const dropper = new pg.Client({ connectionString: serverUrl });
    await dropper.connect();
    await dropper.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await dropper.end();
    log(`dropped database ${name}`);
  });
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  log(`created database ${name}`);
  return url.toString();
}

async function seed(env: Record<string, string>): Promise<{ userId: string }> {
  const { config, db } = await openConfiguredDatabase(loadConfig(env), { migrate: true });
  try {
    await closeDeps(await createDeps(config, db, { logger: createLogger('silent') }));
    await createClient(
      createAdminDeps(config, db),
      { id: CLIENT.id, secret: CLIENT.secret, grantTypes: ['password', 'refresh_token', 'client_credentials'], scopes: ['api'] },
      CLI_ACTOR,
    );
    await createClient(
      createAdminDeps(config, db),
      { id: PUBLIC_CLIENT.id, public: true, grantTypes: ['password', 'refresh_token'], scopes: ['api'] },
      CLI_ACTOR,
    );
    await createClient(
      createAdminDeps(config, db),
      { id: INTROSPECTOR.id, secret: INTROSPECTOR.secret, grantTypes: ['client_credentials'], scopes: ['api'] },
      CLI_ACTOR,
    );
    for (const keyed of [KEY_CLIENT, RSA_KEY_CLIENT]) {
      await createClient(
        createAdminDeps(config, db),
        {
          id: keyed.id,
          grantTypes: ['client_credentials'],
          scopes: ['api'],
          authMethod: 'private_key_jwt',
          jwks: { keys: [{ ...keyed.publicJwk, kid: keyed.kid, alg: keyed.alg, use: 'sig' }] },
        },
        CLI_ACTOR,
      );
    }
    const user = await createUser(createAdminDeps(config, db), { username: USER.username, password: USER.password, scopes: ['api'] }, CLI_ACTOR);
    return { userId: user.id };
  } finally {
    await closeDatabase(db);
  }
}

// ---------------------------------------------------------------- CPU profiles (--profile)

/** Now on the clock of V8's profile timestamps (CLOCK_MONOTONIC, µs), shared by every process. */
const monotonicMicros = (): number => Number(process.hrtime.bigint() / 1000n);

/**
 * The top frames by self time of a .cpuprofile (node --cpu-prof) within [from, to] (monotonic µs: the
 * load's window, so start-up and seeding are left out), as lines "share  function  file:line".
 */
function topFrames(file: string, from: number, to: number, count = 12): string[] {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as {
    nodes: { id: number; callFrame: { functionName: string; url: string; lineNumber: number } }[];
    startTime: number;
    samples: number[];
    timeDeltas: number[];
  };
  const frameOf = new Map(profile.nodes.map((node) => [node.id, node.callFrame]));
  const self = new Map<string, number>();
  let total = 0;
  let at = profile.startTime;
  profile.samples.forEach((id, index) => {
    at += profile.timeDeltas[index] ?? 0;
    if (at < from || at > to) return;
    const frame = frameOf.get(id)!;
    const where = frame.url ? ` ${frame.url.replace(`file://${root}/`, '').replace(/^.*node_modules\//, '')}:${frame.lineNumber + 1}` : '';
    const key = `${frame.functionName || '(anonymous)'}${where}`;
    const delta = Math.max(0, profile.timeDeltas[index] ?? 0);
    self.set(key, (self.get(key) ?? 0) + delta);
    total += delta;
  });
  return [...self.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, count)
    .map(([key, micros]) => `${((100 * micros) / total).toFixed(1).padStart(5)}%  ${key}`);
}

// ---------------------------------------------------------------- the servers under test

type Workload =
  | 'password'
  | 'refresh'
  | 'refresh_dpop'
  | 'client_credentials'
  | 'client_credentials_dpop'
  | 'client_credentials_private_key_jwt'
  | 'client_credentials_private_key_jwt_rs256'
  | 'introspect_access'
  | 'introspect_refresh'
  | 'revoke'
  | 'jwks'
  | 'metadata';
const WORKLOADS: Workload[] = [
  'password',
  'refresh',
  'refresh_dpop',
  'client_credentials',
  'client_credentials_dpop',
  'client_credentials_private_key_jwt',
  'client_credentials_private_key_jwt_rs256',
  'introspect_access',
  'introspect_refresh',
  'revoke',
  'jwks',
  'metadata',
];

interface Running {
  pid: number;
  url: string;
  stop(): Promise<void>;
}
interface Target {
  name: string;
  /** What its ratio column compares: the first Gatehouse target is the reference of the others. */
  versus: string;
  workloads: Workload[];
  start(tag: string): Promise<Running>;
  /** The load's data for one workload at one connection count (tokens come from this server). */
  data(workload: Workload, connections: number, url: string): Promise<WorkloadData>;
}

interface Row {
  workload: string;
  server: string;
  connections: number | null;
  rps: number;
  p50?: number;
  p99?: number;
  errors?: number;
  cpuMicrosPerRequest?: number | undefined;
  /** PostgreSQL's CPU per request (every postgres process on the machine) and the load generator's. */
  dbCpuMicrosPerRequest?: number | undefined;
  loadCpuMicrosPerRequest?: number | undefined;
  rssMb?: number;
  rssProcessMb?: number;
  versus?: string;
  ratio?: number | undefined;
  profileTop?: string[];
  /** With BENCH_ROUNDS > 1: the req/s of each round (the row holds their means). */
  roundsRps?: number[];
}

/** Runs of one server and workload as one row: the means of their figures, the errors summed, the highest peak RSS. */
function meanOf(runs: readonly Row[]): Row {
  const mean = (field: keyof Row): number | undefined => {
    const values = runs.map((run) => run[field]).filter((value): value is number => typeof value === 'number');
    return values.length ? values.reduce((a, b) => a + b, 0) / values.length : undefined;
  };
  const first = runs[0]!;
  return {
    workload: first.workload,
    server: first.server,
    connections: first.connections,
    rps: mean('rps')!,
    p50: mean('p50')!,
    p99: mean('p99')!,
    errors: runs.reduce((sum, run) => sum + (run.errors ?? 0), 0),
    cpuMicrosPerRequest: mean('cpuMicrosPerRequest'),
    dbCpuMicrosPerRequest: mean('dbCpuMicrosPerRequest'),
    loadCpuMicrosPerRequest: mean('loadCpuMicrosPerRequest'),
    rssMb: Math.max(...runs.map((run) => run.rssMb ?? 0)),
  };
}

async function main(): Promise<void> {
  const databaseServer = process.env.DATABASE_URL;
  const wanted = (name: string): boolean => !only || only.includes(name);
  log(
    `machine: ${cpus().length} cores, ${cpus()[0]?.model ?? '?'}; ${databaseServer ? 'PostgreSQL' : 'embedded PGlite'}; ${quick ? 'quick' : growth ? 'growth' : 'full'} run, ${DURATION} s per workload${profile ? ', CPU profiles' : ''}`,
  );
  if (growth && !databaseServer) throw new Error('--growth needs DATABASE_URL (the rows are inserted while the server runs)');

  log('building (npm run build)');
  const build = spawnSync('npm', ['run', '--silent', 'build'], { cwd: root, stdio: 'inherit' });
  if (build.status !== 0) throw new Error('npm run build failed');

  const base: Record<string, string> = { HOST: '127.0.0.1', LOG_LEVEL: process.env.BENCH_LOG_LEVEL ?? 'warn', WEB_CONCURRENCY: '1' };
  let databaseUrl: string | undefined;
  if (databaseServer) {
    databaseUrl = await createBenchDatabase(databaseServer);
    base.DATABASE_URL = databaseUrl;
    base.KEY_ENCRYPTION_SECRET = randomBytes(32).toString('base64url');
  } else {
    const dataDir = mkdtempSync(join(tmpdir(), 'gatehouse-bench-'));
    cleanups.push(() => rmSync(dataDir, { recursive: true, force: true }));
    base.DATA_DIR = dataDir;
  }
  const { userId } = await seed({ ...base, PORT: String(PORTS.server), ISSUER: SERVER_URL });
  await startLoadProcess();
  const profileDir = join(root, 'bench/results', `profiles-${new Date().toISOString().replace(/[:.]/g, '-')}`);

  // ---- Gatehouse
  const gatehouse = (name: string, port: number, env: Record<string, string>, workloads: Workload[], versus: string): Target => ({
    name,
    versus,
    workloads,
    async start(tag) {
      const url = `http://127.0.0.1:${port}`;
      // --profile: the reference server runs under --cpu-prof, one process per workload.
      const profiled = profile && name === 'gatehouse';
      const nodeArgs = [
        ...(process.env.BENCH_SERVER_NODE_ARGS ?? '').split(' ').filter(Boolean),
        ...(profiled ? ['--cpu-prof', `--cpu-prof-dir=${join(profileDir, tag)}`] : []),
      ];
      const child = startProcess(process.execPath, [...nodeArgs, 'bin/serve.cjs'], { ...base, ...env, PORT: String(port), ISSUER: url });
      await waitFor(`${url}/readyz`, child);
      return { pid: child.pid!, url, stop: () => stopProcess(child) };
    },
    async data(workload, connections, url) {
      const password = (): Promise<any> => passwordGrant(url);
      switch (workload) {
        case 'password':
          return { basic: basic(CLIENT), ...USER };
        case 'refresh':
          return { basic: basic(CLIENT), refreshTokens: (await many(connections, 8, password)).map((t) => t.refresh_token as string) };
        case 'refresh_dpop': {
          // A public client's families, each bound (DPoP) to a key of its own; the keys go to the load process.
          const made = await many(connections, 8, async () => {
            const key = newDpopKey();
            const response = await fetch(`${url}/token`, {
              method: 'POST',
              headers: { 'content-type': 'application/x-www-form-urlencoded', dpop: dpopProofMaker(key, `${url}/token`)() },
              body: new URLSearchParams({ grant_type: 'password', username: USER.username, password: USER.password, client_id: PUBLIC_CLIENT.id }).toString(),
            });
            if (response.status !== 200) throw new Error(`bound password grant: ${response.status} ${await response.text()}`);
            return { key, refreshToken: ((await response.json()) as { refresh_token: string }).refresh_token };
          });
          return { clientId: PUBLIC_CLIENT.id, htu: `${url}/token`, refreshTokens: made.map((m) => m.refreshToken), dpopKeys: made.map((m) => m.key) };
        }
        case 'client_credentials':
          return { basic: basic(CLIENT) };
        case 'client_credentials_dpop':
          return { basic: basic(CLIENT), htu: `${url}/token`, dpopKeys: [newDpopKey()] };
        case 'client_credentials_private_key_jwt':
        case 'client_credentials_private_key_jwt_rs256': {
          const keyed = workload === 'client_credentials_private_key_jwt' ? KEY_CLIENT : RSA_KEY_CLIENT;
          return { assertion: { clientId: keyed.id, alg: keyed.alg, privateJwk: keyed.privateJwk, kid: keyed.kid, audience: url } };
        }
        case 'introspect_access':
          return { basic: basic(INTROSPECTOR), tokens: [(await password()).access_token], hint: 'access_token' };
        case 'introspect_refresh':
          return { basic: basic(INTROSPECTOR), tokens: [(await password()).refresh_token], hint: 'refresh_token' };
        case 'revoke':
          // Access tokens from a pool of 2,000 client_credentials tokens, cycled.
          return {
            basic: basic(CLIENT),
            tokens: (await many(2000, 16, () => post('/token', { grant_type: 'client_credentials' }, basic(CLIENT), url))).map((t) => t.access_token as string),
          };
        case 'jwks':
          return { path: '/.well-known/jwks.json' };
        case 'metadata':
          return { path: '/.well-known/oauth-authorization-server' };
      }
    },
  });
  // BENCH_REFERENCE_REDIS_URL: the reference server with REDIS_URL, which (per-IP limit off) puts
  // only the replay cache of DPoP proofs and client assertions in Redis.
  const benchSettings = {
    RATE_LIMIT_PER_IP: '0',
    LOCKOUT_THRESHOLD: '0',
    ...(process.env.BENCH_REFERENCE_REDIS_URL ? { REDIS_URL: process.env.BENCH_REFERENCE_REDIS_URL } : {}),
  };
  const targets: Target[] = [gatehouse('gatehouse', PORTS.server, benchSettings, WORKLOADS, '')];
  if (!growth) {
    // Only one process may hold an embedded database: the variants need PostgreSQL.
    // BENCH_REDIS_URL: the default configuration once more, with the per-IP counters in Redis.
    if (databaseServer && process.env.BENCH_REDIS_URL)
      targets.push(
        gatehouse(
          'gatehouse, defaults, Redis',
          PORTS.redis,
          { TRUST_PROXY: 'true', LOG_LEVEL: 'info', REDIS_URL: process.env.BENCH_REDIS_URL },
          ['refresh', 'client_credentials'],
          'defaults with Redis ÷ bench settings',
        ),
      );
    if (databaseServer)
      targets.push(
        // The default configuration (per-IP limit 600/min, lockout 5, a log line per request), the load spread over many addresses.
        gatehouse(
          'gatehouse, defaults',
          PORTS.defaults,
          { TRUST_PROXY: 'true', LOG_LEVEL: 'info' },
          // The variants too: ÷ plain client_credentials on this same server (a read per assertion
          // of the per-IP failure count once cost private_key_jwt a third of its rate here).
          ['password', 'refresh', 'client_credentials', 'client_credentials_dpop', 'client_credentials_private_key_jwt'],
          'defaults ÷ bench settings',
        ),
        gatehouse(
          'gatehouse, 2 workers',
          PORTS.twoWorkers,
          { ...benchSettings, WEB_CONCURRENCY: '2' },
          ['password', 'refresh', 'client_credentials', 'introspect_access', 'jwks'],
          '2 workers ÷ 1',
        ),
      );

    // ---- @node-oauth/oauth2-server on the same PostgreSQL (RS256 JWT access tokens)
    const peerClient = { id: 'peer-client', secret: randomBytes(32).toString('base64url') };
    if (databaseUrl)
      targets.push({
        name: '@node-oauth/oauth2-server',
        versus: 'Gatehouse ÷ peer',
        workloads: ['password', 'refresh'],
        async start() {
          const child = startProcess(process.execPath, ['--import', 'tsx', 'bench/peer/server.ts'], {
            PORT: String(PORTS.peer),
            DATABASE_URL: databaseUrl,
            WEB_CONCURRENCY: '1',
            PEER_CLIENT_ID: peerClient.id,
            PEER_CLIENT_SECRET: peerClient.secret,
            PEER_USERNAME: USER.username,
            PEER_PASSWORD: USER.password,
          });
          const url = `http://127.0.0.1:${PORTS.peer}`;
          await waitFor(`${url}/`, child);
          return { pid: child.pid!, url, stop: () => stopProcess(child) };
        },
        async data(workload, connections, url) {
          if (workload === 'password') return { basic: basic(peerClient), ...USER };
          return {
            basic: basic(peerClient),
            refreshTokens: (await many(connections, 8, () => passwordGrant(url, peerClient))).map((t) => t.refresh_token as string),
          };
        },
      });

    // ---- node-oidc-provider, in-memory adapter
    const oidcClient = { id: 'oidc-client', secret: randomBytes(32).toString('base64url') };
    const oidcIntrospector = { id: 'oidc-introspector', secret: randomBytes(32).toString('base64url') };
    targets.push({
      name: 'node-oidc-provider',
      versus: 'Gatehouse ÷ peer',
      workloads: ['refresh', 'client_credentials', 'introspect_access', 'jwks'],
      async start() {
        const child = startProcess(process.execPath, ['--import', 'tsx', 'bench/peer/oidc-provider.ts'], {
          PORT: String(PORTS.oidc),
          PEER_CLIENT_ID: oidcClient.id,
          PEER_CLIENT_SECRET: oidcClient.secret,
          PEER_INTROSPECTOR_ID: oidcIntrospector.id,
          PEER_INTROSPECTOR_SECRET: oidcIntrospector.secret,
        });
        const url = `http://127.0.0.1:${PORTS.oidc}`;
        await waitFor(`${url}/jwks`, child);
        return { pid: child.pid!, url, stop: () => stopProcess(child) };
      },
      async data(workload, connections, url) {
        switch (workload) {
          case 'refresh': {
            const response = await fetch(`${url}/bench/seed?count=${connections}`, { method: 'POST' });
            return { basic: basic(oidcClient), refreshTokens: (await response.json()) as string[] };
          }
          case 'client_credentials':
            return { basic: basic(oidcClient), extraBody: { resource: 'https://api.bench.example', scope: 'api' } };
          case 'introspect_access': {
            // Its opaque client_credentials token: it refuses to introspect JWTs.
            const token = await post('/token', { grant_type: 'client_credentials', scope: 'api' }, basic(oidcClient), url);
            return { basic: basic(oidcIntrospector), tokens: [token.access_token], hint: 'access_token', requestPath: '/token/introspection' };
          }
          default:
            return { path: '/jwks' };
        }
      },
    });

    // ---- a bare Koa JSON endpoint: the HTTP bound for JWKS
    targets.push({
      name: 'bare Koa',
      versus: 'Gatehouse ÷ bare Koa',
      workloads: ['jwks'],
      async start() {
        const child = startProcess(process.execPath, ['--import', 'tsx', 'bench/bare-koa.ts'], { PORT: String(PORTS.bare), WEB_CONCURRENCY: '1' });
        const url = `http://127.0.0.1:${PORTS.bare}`;
        await waitFor(`${url}/`, child);
        return { pid: child.pid!, url, stop: () => stopProcess(child) };
      },
      data: async () => ({ path: '/' }),
    });
  }

  // BENCH_TARGETS (e.g. `gatehouse` or `gatehouse;gatehouse, 2 workers`; names hold commas): only
  // the servers named, for a quicker look at one of them.
  const onlyTargets = process.env.BENCH_TARGETS?.split(';').map((name) => name.trim());
  if (onlyTargets) targets.splice(0, targets.length, ...targets.filter((target) => onlyTargets.includes(target.name)));

  // Every server stays up, idle between its runs; the profiled one restarts per workload.
  const running = new Map<Target, Running>();
  for (const target of targets) {
    if (profile && target.name === 'gatehouse') continue;
    running.set(target, await target.start('all'));
    log(`${target.name} up (pid ${running.get(target)!.pid})`);
  }

  const rows: Row[] = [];
  const warmed = new Set<string>();
  const measure = async (target: Target, workload: Workload, connections: number, label = workload as string): Promise<Row> => {
    const server = running.get(target) ?? (await target.start(`${workload}-c${connections}`));
    const window = { from: 0, to: Number.MAX_SAFE_INTEGER };
    try {
      const kind = workload === 'jwks' || workload === 'metadata' ? 'get' : workload;
      // A short unmeasured run first (its own tokens), so that no server is measured while its JIT warms up.
      if (WARMUP_SECONDS > 0 && workload !== 'password' && !warmed.has(`${target.name} ${workload} ${server.pid}`)) {
        warmed.add(`${target.name} ${workload} ${server.pid}`);
        const warmupData = { ...(await target.data(workload, connections, server.url)), sources: SOURCE_ADDRESSES };
        // Gatehouse: one request from every source address, so that the measured run sees the per-IP
        // limit in its steady state (an address reserves from the shared counter once a minute), not
        // the first minute in which every address is new.
        if (target.name.startsWith('gatehouse'))
          await job({ kind: 'http', workload: kind, url: server.url, connections, duration: 0, amount: SOURCE_ADDRESSES, data: warmupData });
        else await http(kind, server.url, connections, warmupData, WARMUP_SECONDS);
      }
      const data = { ...(await target.data(workload, connections, server.url)), sources: SOURCE_ADDRESSES };
      const stop = sampleRss(server.pid);
      const cpuBefore = cpuMicros(server.pid);
      const dbCpuBefore = postgresCpuMicros();
      window.from = monotonicMicros();
      const result = await http(kind, server.url, connections, data);
      window.to = monotonicMicros();
      const cpu = cpuMicros(server.pid) - cpuBefore;
      const dbCpu = postgresCpuMicros() - dbCpuBefore;
      const loadCpu = result.loadCpuMicros;
      const rss = stop();
      const row: Row = {
        workload: label,
        server: target.name,
        connections,
        rps: result.rps,
        p50: result.p50,
        p99: result.p99,
        errors: result.errors,
        cpuMicrosPerRequest: result.requests > 0 ? cpu / result.requests : undefined,
        dbCpuMicrosPerRequest: result.requests > 0 ? dbCpu / result.requests : undefined,
        loadCpuMicrosPerRequest: result.requests > 0 ? loadCpu / result.requests : undefined,
        rssMb: rss.totalMb,
        rssProcessMb: rss.processMb,
      };
      rows.push(row);
      log(
        `${target.name} ${label} c=${connections}: ${result.rps.toFixed(0)} req/s p50 ${result.p50} ms p99 ${result.p99} ms errors ${result.errors} cpu ${row.cpuMicrosPerRequest?.toFixed(0)} µs/req (postgres ${row.dbCpuMicrosPerRequest?.toFixed(0)}, load ${row.loadCpuMicrosPerRequest?.toFixed(0)}) rss ${rss.totalMb} MB${result.errors ? ` statuses ${JSON.stringify(result.statusCodes)}` : ''}`,
      );
      return row;
    } finally {
      if (!running.has(target)) {
        await server.stop();
        const dir = join(profileDir, `${workload}-c${connections}`);
        const file = existsSync(dir) ? readdirSync(dir).find((f) => f.endsWith('.cpuprofile')) : undefined;
        const row = rows.at(-1);
        if (file && row && row.server === target.name) {
          row.profileTop = topFrames(join(dir, file), window.from, window.to);
          log(`profile ${join(dir, file)}, top frames by self time:\n    ${row.profileTop.join('\n    ')}`);
        }
      }
    }
  };

  // ---- bounds of the machine, measured in this run (one thread / one process, as the reference server)
  const bounds: Record<string, number> = {};
  const refreshSql = async (connections: number): Promise<number> => {
    if (!databaseUrl) return NaN;
    const { rate } = await job<{ rate: number }>({
      kind: 'refreshSql',
      seconds: BOUND_SECONDS,
      concurrency: connections,
      poolMax: 10,
      databaseUrl,
      clientId: CLIENT.id,
      userId,
    });
    log(`bound: refresh SQL c=${connections}: ${rate.toFixed(0)}/s`);
    return rate;
  };

  const reference = targets[0]!;

  /**
   * A variant's ratio to its plain workload (DPoP ÷ plain, private_key_jwt ÷ client_secret_basic):
   * the two alternate, plain first, ALTERNATING_ROUNDS times each, so that a drift in the machine's
   * speed over the run (other tenants, CPU clocks) weighs on both alike. One row for the variant:
   * the means of its runs, and its ratio to the mean of the plain runs.
   */
  const alternating = async (target: Target, workload: Workload, plain: Workload, connections: number): Promise<Row> => {
    const before = rows.length;
    const plainRuns: Row[] = [];
    const variantRuns: Row[] = [];
    for (let round = 0; round < ALTERNATING_ROUNDS; round++) {
      plainRuns.push(await measure(target, plain, connections));
      variantRuns.push(await measure(target, workload, connections));
    }
    rows.splice(before);
    const variant = meanOf(variantRuns);
    const row: Row = {
      ...variant,
      ratio: variant.rps / meanOf(plainRuns).rps,
      versus: `${workload.includes('private_key_jwt') ? `private_key_jwt (${workload.endsWith('rs256') ? 'RS256' : 'ES256'}) ÷ client_secret_basic` : `DPoP ÷ plain ${plain}`}, ${ALTERNATING_ROUNDS} alternating runs each (plain: ${plainRuns.map((run) => run.rps.toFixed(0)).join(', ')} req/s; this: ${variantRuns.map((run) => run.rps.toFixed(0)).join(', ')})`,
    };
    rows.push(row);
    return row;
  };

  /** Each target's runs of one workload, ROUNDS rounds of every target in turn; one row per target, the mean of its runs. */
  const inRounds = async (workloadTargets: Target[], workload: Workload, connections: number): Promise<Row[]> => {
    const before = rows.length;
    const runs = workloadTargets.map((): Row[] => []);
    for (let round = 0; round < ROUNDS; round++) {
      for (const [index, target] of workloadTargets.entries()) runs[index]!.push(await measure(target, workload, connections));
    }
    if (ROUNDS === 1) return runs.map((own) => own[0]!);
    rows.splice(before);
    const means = runs.map((own) => ({ ...meanOf(own), roundsRps: own.map((run) => run.rps) }));
    rows.push(...means);
    return means;
  };

  if (growth) {
    const rowsToInsert = Number(process.env.BENCH_GROWTH_ROWS ?? 1_000_000);
    const before = await measure(reference, 'refresh', 50, 'refresh, empty database');
    bounds['refresh SQL c=50, empty database'] = await refreshSql(50);
    log(`inserting ${rowsToInsert.toLocaleString('en')} grants and refresh tokens`);
    const t0 = Date.now();
    const pool = new pg.Client({ connectionString: databaseUrl });
    await pool.connect();
    await pool.query(
      `WITH g AS (
         INSERT INTO grants (id, client_id, user_id, scopes, created_at, expires_at)
         SELECT gen_random_uuid(), $1, $2, '{api}', now(), now() + interval '30 days' FROM generate_series(1, $3::int)
         RETURNING id)
       INSERT INTO refresh_tokens (token_hash, grant_id, parent_hash, created_at, expires_at)
       SELECT encode(sha256(convert_to(id::text, 'UTF8')), 'hex'), id, NULL, now(), now() + interval '14 days' FROM g`,
      [CLIENT.id, userId, rowsToInsert],
    );
    await pool.query('VACUUM ANALYZE grants');
    await pool.query('VACUUM ANALYZE refresh_tokens');
    const counts = await pool.query('SELECT (SELECT count(*) FROM grants) AS grants, (SELECT count(*) FROM refresh_tokens) AS refresh_tokens');
    const sample = (await pool.query('SELECT token_hash FROM refresh_tokens LIMIT 1')).rows[0];
    // The refresh grant's lookup (findRefreshTokenWithGrantAndUser): it must stay index scans as the tables grow.
    const plan = await pool.query(
      'EXPLAIN SELECT to_jsonb(g) AS grant_row, to_jsonb(r) AS token_row, to_jsonb(u) AS user_row FROM refresh_tokens r JOIN grants g ON g.id = r.grant_id LEFT JOIN users u ON u.id = g.user_id WHERE r.token_hash = $1',
      [sample.token_hash],
    );
    log(`EXPLAIN find token+grant+user:\n    ${plan.rows.map((r: any) => r['QUERY PLAN']).join('\n    ')}`);
    await pool.end();
    log(`inserted in ${((Date.now() - t0) / 1000).toFixed(1)} s: ${JSON.stringify(counts.rows[0])}`);
    const after = await measure(reference, 'refresh', 50, `refresh, ${rowsToInsert.toLocaleString('en')} grants`);
    bounds[`refresh SQL c=50, ${rowsToInsert} grants`] = await refreshSql(50);
    after.versus = 'this ÷ empty database';
    after.ratio = after.rps / before.rps;
  } else {
    for (const connections of CONNECTIONS) {
      for (const workload of WORKLOADS.filter(wanted)) {
        if (workload === 'refresh') bounds[`refresh SQL c=${connections}`] = await refreshSql(connections);
        const workloadTargets = targets.filter((t) => t.workloads.includes(workload));
        const plain = PLAIN_OF[workload];
        if (plain) {
          // A variant of a plain workload: its ratio is to that workload on the same server (the
          // reference, and the default configuration for the client_credentials variants).
          for (const target of workloadTargets) await alternating(target, workload, plain, connections);
          continue;
        }
        const measured = await inRounds(workloadTargets, workload, connections);
        const mine = workloadTargets[0] === reference ? measured[0] : undefined;
        for (const [index, target] of workloadTargets.entries()) {
          const row = measured[index]!;
          if (target === reference) continue;
          row.versus = target.versus;
          // For Gatehouse variants, variant ÷ reference; for peers and bounds, Gatehouse ÷ them.
          if (mine) row.ratio = target.name.startsWith('gatehouse') ? row.rps / mine.rps : mine.rps / row.rps;
        }
      }
    }
  }
  for (const server of running.values()) await server.stop();

  // ---- output
  const fmt = (n: number | undefined, digits = 0): string => (n === undefined || Number.isNaN(n) ? '–' : n.toFixed(digits));
  const lines = [
    '| workload | conns | server | req/s | p50 ms | p99 ms | errors | CPU µs/req | postgres CPU µs/req | load CPU µs/req | peak RSS MB | ratio | ratio of |',
    '|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|',
    ...rows.map(
      (r) =>
        `| ${r.workload} | ${r.connections ?? ''} | ${r.server} | ${fmt(r.rps)} | ${fmt(r.p50)} | ${fmt(r.p99)} | ${r.errors ?? ''} | ${fmt(r.cpuMicrosPerRequest)} | ${fmt(r.dbCpuMicrosPerRequest)} | ${fmt(r.loadCpuMicrosPerRequest)} | ${r.rssMb ?? ''} | ${fmt(r.ratio, 2)} | ${[r.versus, r.roundsRps && `mean of ${r.roundsRps.length} rounds (${r.roundsRps.map((rps) => rps.toFixed(0)).join(', ')} req/s)`].filter(Boolean).join('; ')} |`,
    ),
  ];
  const boundLines = Object.entries(bounds)
    .filter(([, rate]) => !Number.isNaN(rate))
    .map(([name, rate]) => `- ${name}: ${rate.toFixed(1)}/s`);
  process.stdout.write(`\n${lines.join('\n')}\n\nBounds in this run:\n${boundLines.join('\n')}\n`);
  mkdirSync(join(root, 'bench/results'), { recursive: true });
  const file = join(root, 'bench/results', `${new Date().toISOString().replace(/[:.]/g, '-')}${quick ? '-quick' : growth ? '-growth' : ''}.json`);
  writeFileSync(
    file,
    JSON.stringify(
      {
        date: new Date().toISOString(),
        cores: cpus().length,
        cpu: cpus()[0]?.model,
        loadAverage: loadavg(),
        database: databaseServer ? 'postgresql' : 'embedded',
        duration: DURATION,
        mode: quick ? 'quick' : growth ? 'growth' : 'full',
        bounds,
        rows,
      },
      null,
      2,
    ),
  );
  log(`wrote ${file}`);
  // The Token Status List figures (issue 13), from their own script on a database of their own.
  if (databaseServer && !growth && wanted('status_list')) {
    process.stdout.write('\nToken Status List (bench/status-list.ts):\n');
    const statusList = spawnSync(process.execPath, ['--import', 'tsx', 'bench/status-list.ts', ...(quick ? ['--quick'] : [])], { cwd: root, stdio: 'inherit' });
    if (statusList.status !== 0) {
      log('bench/status-list.ts failed');
      process.exitCode = 1;
    }
  }
  // Gatehouse must answer every request with a 2xx; the peers' errors are reported, not fatal.
  const failed = rows.filter((r) => r.server.startsWith('gatehouse') && (r.errors ?? 0) > 0);
  if (failed.length > 0) {
    log(`errors in: ${failed.map((r) => `${r.server} ${r.workload} c=${r.connections}`).join(', ')}`);
    process.exitCode = 1;
  }
}

async function shutdown(): Promise<void> {
  for (const child of started.reverse()) await stopProcess(child).catch(() => undefined);
  for (const cleanup of cleanups.reverse()) await Promise.resolve(cleanup()).catch((error: unknown) => log(`clean-up failed: ${String(error)}`));
}

process.on('SIGINT', () => void shutdown().finally(() => process.exit(130)));
process.on('SIGTERM', () => void shutdown().finally(() => process.exit(143)));
main()
  .catch((error: unknown) => {
    log(`failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    process.exitCode = 1;
  })
  .finally(() => shutdown());
