/**
 * `npm run bench [-- --quick | --growth] [-- --only=refresh,jwks]`
 *
 * Starts Gatehouse (`node dist/src/main.js`) as its own process — on a fresh database created on the
 * PostgreSQL server of DATABASE_URL (dropped afterwards), or embedded in a temporary DATA_DIR — seeds
 * it through the service code, drives each workload with autocannon from a separate load process
 * (bench/load.ts), measures the bounds in the same run, and prints every figure with its ratio to
 * its bound. Results go to bench/results/<date>.json (gitignored). See docs/performance.md.
 */
import { fork, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync, readdirSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { loadConfig } from '../src/config.js';
import { openConfiguredDatabase } from '../src/runtime.js';
import { createDeps } from '../src/deps.js';
import { createLogger } from '../src/logger.js';
import { closeDatabase } from '../src/store/database.js';
import { CLI_ACTOR } from '../src/services/actor.js';
import { createAdminDeps } from '../src/deps.js';
import { createClient } from '../src/services/clients.js';
import { createUser } from '../src/services/users.js';
import { dpopProofMaker, newDpopKey } from './dpop-proof.js';
import type { WorkloadData } from './load.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const quick = args.includes('--quick');
const growth = args.includes('--growth');
const only = args
  .find((a) => a.startsWith('--only='))
  ?.slice(7)
  .split(',');

const CONNECTIONS = quick ? [50] : [10, 50, 200];
const DURATION = Number(process.env.BENCH_DURATION ?? (quick ? 3 : 8));
const BOUND_SECONDS = quick ? 2 : 5;
const PORTS = { server: 39100, bare: 39101, peer: 39102 };
const SERVER_URL = `http://127.0.0.1:${PORTS.server}`;

const CLIENT = { id: 'bench-client', secret: randomBytes(32).toString('base64url') };
/** A public client (a mobile or browser app) for the DPoP-bound refresh workload. */
const PUBLIC_CLIENT = { id: 'bench-public' };
const INTROSPECTOR = { id: 'bench-introspector', secret: randomBytes(32).toString('base64url') };
/** A private_key_jwt client (RFC 7523): its ES256 key pair, the public half registered with it. */
const KEY_CLIENT = (() => {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return { id: 'bench-key-client', kid: 'bench-1', privateJwk: privateKey.export({ format: 'jwk' }), publicJwk: publicKey.export({ format: 'jwk' }) };
})();
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
}
// A password grant takes an argon2 verification (~30 ms of a core): at 50+ connections the first
// answers come after seconds, so its window is at least 10 s or it measures the ramp-up only.
const http = (workload: string, url: string, connections: number, data: WorkloadData, duration = DURATION): Promise<HttpResult> =>
  job<HttpResult>({ kind: 'http', workload, url, connections, duration: workload === 'password' ? Math.max(10, duration) : duration, data });

// ---------------------------------------------------------------- helpers against the server

async function post(path: string, body: Record<string, string>, authorization: string, base = SERVER_URL): Promise<any> {
  const response = await fetch(`${base}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', authorization },
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
    await createDeps(config, db, { logger: createLogger('silent') });
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
    await createClient(
      createAdminDeps(config, db),
      {
        id: KEY_CLIENT.id,
        grantTypes: ['client_credentials'],
        scopes: ['api'],
        authMethod: 'private_key_jwt',
        jwks: { keys: [{ ...KEY_CLIENT.publicJwk, kid: KEY_CLIENT.kid, alg: 'ES256', use: 'sig' }] },
      },
      CLI_ACTOR,
    );
    const user = await createUser(createAdminDeps(config, db), { username: USER.username, password: USER.password, scopes: ['api'] }, CLI_ACTOR);
    return { userId: user.id };
  } finally {
    await closeDatabase(db);
  }
}

// ---------------------------------------------------------------- main

interface Row {
  workload: string;
  server: 'gatehouse' | 'peer' | 'bound';
  connections: number | null;
  rps: number;
  p50?: number;
  p99?: number;
  errors?: number;
  rssMb?: number;
  rssProcessMb?: number;
  bound?: string;
  boundRate?: number | undefined;
  ratio?: number | undefined;
}

async function main(): Promise<void> {
  const databaseServer = process.env.DATABASE_URL;
  const workers = databaseServer ? Number(process.env.BENCH_WEB_CONCURRENCY ?? 2) : 1;
  log(
    `machine: ${cpus().length} cores, ${cpus()[0]?.model ?? '?'}; ${databaseServer ? 'PostgreSQL' : 'embedded PGlite'}; WEB_CONCURRENCY=${workers}; ${quick ? 'quick' : growth ? 'growth' : 'full'} run, ${DURATION} s per workload`,
  );
  if (growth && !databaseServer) throw new Error('--growth needs DATABASE_URL (the rows are inserted while the server runs)');

  log('building (npm run build)');
  const build = spawnSync('npm', ['run', '--silent', 'build'], { cwd: root, stdio: 'inherit' });
  if (build.status !== 0) throw new Error('npm run build failed');

  const env: Record<string, string> = {
    PORT: String(PORTS.server),
    HOST: '127.0.0.1',
    ISSUER: SERVER_URL,
    RATE_LIMIT_PER_IP: '0',
    LOCKOUT_THRESHOLD: '0',
    LOG_LEVEL: process.env.BENCH_LOG_LEVEL ?? 'warn',
    WEB_CONCURRENCY: String(workers),
  };
  let databaseUrl: string | undefined;
  if (databaseServer) {
    databaseUrl = await createBenchDatabase(databaseServer);
    env.DATABASE_URL = databaseUrl;
    env.KEY_ENCRYPTION_SECRET = randomBytes(32).toString('base64url');
  } else {
    const dataDir = mkdtempSync(join(tmpdir(), 'gatehouse-bench-'));
    cleanups.push(() => rmSync(dataDir, { recursive: true, force: true }));
    env.DATA_DIR = dataDir;
  }
  const { userId } = await seed(env);

  await startLoadProcess();
  // BENCH_SERVER_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof" profiles the server (workers inherit it).
  const serverArgs = (process.env.BENCH_SERVER_NODE_ARGS ?? '').split(' ').filter(Boolean);
  const server = startProcess(process.execPath, [...serverArgs, 'dist/src/main.js'], env);
  await waitFor(`${SERVER_URL}/readyz`, server);
  log(`gatehouse up (pid ${server.pid})`);

  const rows: Row[] = [];
  const wanted = (name: string): boolean => !only || only.includes(name);
  const measure = async (workload: string, connections: number, data: WorkloadData): Promise<Row> => {
    const stop = sampleRss(server.pid!);
    const result = await http(workload === 'jwks' || workload === 'metadata' ? 'get' : workload, SERVER_URL, connections, data);
    const rss = stop();
    const row: Row = {
      workload,
      server: 'gatehouse',
      connections,
      rps: result.rps,
      p50: result.p50,
      p99: result.p99,
      errors: result.errors,
      rssMb: rss.totalMb,
      rssProcessMb: rss.processMb,
    };
    rows.push(row);
    log(
      `${workload} c=${connections}: ${result.rps.toFixed(0)} req/s p50 ${result.p50} ms p99 ${result.p99} ms errors ${result.errors} rss ${rss.totalMb} MB${result.errors ? ` statuses ${JSON.stringify(result.statusCodes)}` : ''}`,
    );
    return row;
  };

  // Tokens the workloads need.
  const userTokens = await passwordGrant();
  const introspectable = await passwordGrant();
  const families = async (count: number): Promise<string[]> => (await many(count, 8, () => passwordGrant())).map((t) => t.refresh_token as string);
  /** A public client's families, each bound (DPoP) to a key of its own; the keys go to the load process. */
  const boundFamilies = async (count: number): Promise<WorkloadData> => {
    const made = await many(count, 8, async () => {
      const key = newDpopKey();
      const response = await fetch(`${SERVER_URL}/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', dpop: dpopProofMaker(key, `${SERVER_URL}/token`)() },
        body: new URLSearchParams({ grant_type: 'password', username: USER.username, password: USER.password, client_id: PUBLIC_CLIENT.id }).toString(),
      });
      if (response.status !== 200) throw new Error(`bound password grant: ${response.status} ${await response.text()}`);
      return { key, refreshToken: ((await response.json()) as { refresh_token: string }).refresh_token };
    });
    return { clientId: PUBLIC_CLIENT.id, htu: `${SERVER_URL}/token`, refreshTokens: made.map((m) => m.refreshToken), dpopKeys: made.map((m) => m.key) };
  };

  // ---- bounds measured in this run
  const bounds: Record<string, number> = {};
  const signingInput = (userTokens.access_token as string).split('.').slice(0, 2).join('.');
  // Each bound is measured right before the workload it bounds, so both see the same machine load.
  const signBound = async (connections: number): Promise<number> => {
    const { rate } = await job<{ rate: number }>({ kind: 'sign', seconds: BOUND_SECONDS, threads: workers, signingInput });
    bounds[`rs256 c=${connections}`] = rate;
    log(`bound: RS256 signs/s (${workers} threads): ${rate.toFixed(0)}`);
    return rate;
  };
  const argon2Bound = async (connections: number): Promise<number> => {
    const { rate } = await job<{ rate: number }>({ kind: 'argon2', seconds: BOUND_SECONDS, concurrency: 8 });
    bounds[`argon2 c=${connections}`] = rate;
    log(`bound: argon2id verifies/s: ${rate.toFixed(1)}`);
    return rate;
  };
  const sqlBound = async (connections: number): Promise<number> => {
    if (!databaseUrl) return NaN;
    const { rate } = await job<{ rate: number }>({
      kind: 'refreshSql',
      seconds: BOUND_SECONDS,
      concurrency: connections,
      poolMax: 10 * workers,
      databaseUrl,
      clientId: CLIENT.id,
      userId,
    });
    log(`bound: refresh SQL c=${connections}: ${rate.toFixed(0)}/s`);
    bounds[`refresh SQL c=${connections}`] = rate;
    return rate;
  };

  if (growth) {
    const before = await measure('refresh', 50, { basic: basic(CLIENT), refreshTokens: await families(50) });
    const sqlBefore = await sqlBound(50);
    log('inserting 1,000,000 grants and refresh tokens');
    const t0 = Date.now();
    const pool = new pg.Client({ connectionString: databaseUrl });
    await pool.connect();
    await pool.query(
      `WITH g AS (
         INSERT INTO grants (id, client_id, user_id, scopes, created_at, expires_at)
         SELECT gen_random_uuid(), $1, $2, '{api}', now(), now() + interval '30 days' FROM generate_series(1, 1000000)
         RETURNING id)
       INSERT INTO refresh_tokens (token_hash, grant_id, parent_hash, created_at, expires_at)
       SELECT encode(sha256(convert_to(id::text, 'UTF8')), 'hex'), id, NULL, now(), now() + interval '14 days' FROM g`,
      [CLIENT.id, userId],
    );
    await pool.query('VACUUM ANALYZE grants; ');
    await pool.query('VACUUM ANALYZE refresh_tokens');
    const counts = await pool.query('SELECT (SELECT count(*) FROM grants) AS grants, (SELECT count(*) FROM refresh_tokens) AS refresh_tokens');
    // The hot statements must stay index lookups as the tables grow.
    const sample = (await pool.query('SELECT token_hash, grant_id FROM refresh_tokens LIMIT 1')).rows[0];
    for (const [name, sql, params] of [
      ['find token+grant', 'SELECT * FROM refresh_tokens r JOIN grants g ON g.id = r.grant_id WHERE r.token_hash = $1', [sample.token_hash]],
      [
        'rotate',
        `EXPLAIN WITH used AS (UPDATE refresh_tokens SET used_at = now() WHERE token_hash = $1 AND used_at IS NULL RETURNING token_hash)
        INSERT INTO refresh_tokens (token_hash, grant_id, parent_hash, created_at, expires_at) SELECT 'x', $2::uuid, token_hash, now(), now() FROM used`,
        [sample.token_hash, sample.grant_id],
      ],
      [
        'access token standing',
        'SELECT NOT EXISTS (SELECT 1 FROM revoked_access_tokens WHERE jti = gen_random_uuid()) AND EXISTS (SELECT 1 FROM grants WHERE id = $1 AND revoked_at IS NULL AND expires_at > now())',
        [sample.grant_id],
      ],
    ] as const) {
      const text = sql.startsWith('EXPLAIN') ? sql : `EXPLAIN ${sql}`;
      const plan = (await pool.query(text, [...params])).rows.map((r: any) => r['QUERY PLAN']).join('\n    ');
      log(`EXPLAIN ${name}:\n    ${plan}`);
    }
    await pool.end();
    log(`inserted in ${((Date.now() - t0) / 1000).toFixed(1)} s: ${JSON.stringify(counts.rows[0])}`);
    const after = await measure('refresh', 50, { basic: basic(CLIENT), refreshTokens: await families(50) });
    const sqlAfter = await sqlBound(50);
    after.workload = 'refresh (1M grants)';
    after.bound = 'refresh on the empty database';
    after.boundRate = before.rps;
    after.ratio = after.rps / before.rps;
    before.bound = 'refresh SQL';
    before.boundRate = sqlBefore;
    before.ratio = before.rps / sqlBefore;
    rows.push({
      workload: 'refresh SQL (1M grants)',
      server: 'bound',
      connections: 50,
      rps: sqlAfter,
      bound: 'refresh SQL on the empty database',
      boundRate: sqlBefore,
      ratio: sqlAfter / sqlBefore,
    });
  } else {
    // ---- bare Koa, the HTTP bound for JWKS and metadata (idle until measured, per connection count)
    const bare = startProcess(process.execPath, ['--import', 'tsx', 'bench/bare-koa.ts'], { PORT: String(PORTS.bare), WEB_CONCURRENCY: String(workers) });
    await waitFor(`http://127.0.0.1:${PORTS.bare}/`, bare);
    const bareBound = async (connections: number): Promise<number> => {
      const result = await http('get', `http://127.0.0.1:${PORTS.bare}`, connections, { path: '/' });
      bounds[`bare Koa c=${connections}`] = result.rps;
      log(`bound: bare Koa c=${connections}: ${result.rps.toFixed(0)} req/s`);
      return result.rps;
    };

    const revokePool = wanted('revoke')
      ? (await many(2000, 16, () => post('/token', { grant_type: 'client_credentials' }, basic(CLIENT)))).map((t) => t.access_token as string)
      : [];

    for (const connections of CONNECTIONS) {
      const withBound = (row: Row, bound: string, rate: number): void => {
        row.bound = bound;
        row.boundRate = rate;
        row.ratio = row.rps / rate;
      };
      if (wanted('password')) {
        const rate = await argon2Bound(connections);
        withBound(await measure('password', connections, { basic: basic(CLIENT), ...USER }), 'argon2id verifies/s', rate);
      }
      let plainRefresh: Row | undefined;
      if (wanted('refresh')) {
        const sql = await sqlBound(connections);
        plainRefresh = await measure('refresh', connections, { basic: basic(CLIENT), refreshTokens: await families(connections) });
        withBound(plainRefresh, 'refresh SQL/s', sql);
      }
      // DPoP (issue 14): each ratio is to the plain workload measured just before it in this run.
      if (wanted('refresh_dpop')) {
        const row = await measure('refresh_dpop', connections, await boundFamilies(connections));
        if (plainRefresh) withBound(row, 'plain refresh', plainRefresh.rps);
      }
      let plainClient: Row | undefined;
      if (wanted('client_credentials')) {
        const rate = await signBound(connections);
        plainClient = await measure('client_credentials', connections, { basic: basic(CLIENT) });
        withBound(plainClient, 'RS256 signs/s', rate);
        if (wanted('client_credentials_private_key_jwt')) {
          // Bounded by the same grant with client_secret_basic, measured just before (issue 15: ≥ 0.8×).
          const assertion = { clientId: KEY_CLIENT.id, privateJwk: KEY_CLIENT.privateJwk, kid: KEY_CLIENT.kid, audience: SERVER_URL };
          withBound(await measure('client_credentials_private_key_jwt', connections, { assertion }), 'client_secret_basic req/s', plainClient.rps);
        }
      }
      if (wanted('client_credentials_dpop')) {
        const row = await measure('client_credentials_dpop', connections, { basic: basic(CLIENT), htu: `${SERVER_URL}/token`, dpopKeys: [newDpopKey()] });
        if (plainClient) withBound(row, 'plain client_credentials', plainClient.rps);
      }
      const bareRate = ['introspect_access', 'introspect_refresh', 'revoke', 'jwks', 'metadata'].some(wanted) ? await bareBound(connections) : NaN;
      const bare = bareRate;
      if (wanted('introspect_access'))
        withBound(
          await measure('introspect_access', connections, { basic: basic(INTROSPECTOR), tokens: [userTokens.access_token], hint: 'access_token' }),
          'bare Koa',
          bare,
        );
      if (wanted('introspect_refresh'))
        withBound(
          await measure('introspect_refresh', connections, { basic: basic(INTROSPECTOR), tokens: [introspectable.refresh_token], hint: 'refresh_token' }),
          'bare Koa',
          bare,
        );
      if (wanted('revoke')) withBound(await measure('revoke', connections, { basic: basic(CLIENT), tokens: revokePool }), 'bare Koa', bare);
      if (wanted('jwks')) withBound(await measure('jwks', connections, { path: '/.well-known/jwks.json' }), 'bare Koa', bare);
      if (wanted('metadata')) withBound(await measure('metadata', connections, { path: '/.well-known/oauth-authorization-server' }), 'bare Koa', bare);
    }
    await stopProcess(bare);
  }
  await stopProcess(server);

  // ---- the peer: @node-oauth/oauth2-server, same database server, same argon2 parameters
  if (databaseUrl && !growth && (wanted('peer') || !only)) {
    const peerClient = { id: 'peer-client', secret: randomBytes(32).toString('base64url') };
    const peer = startProcess(process.execPath, ['--import', 'tsx', 'bench/peer/server.ts'], {
      PORT: String(PORTS.peer),
      DATABASE_URL: databaseUrl,
      WEB_CONCURRENCY: String(workers),
      PEER_CLIENT_ID: peerClient.id,
      PEER_CLIENT_SECRET: peerClient.secret,
      PEER_USERNAME: USER.username,
      PEER_PASSWORD: USER.password,
    });
    const peerUrl = `http://127.0.0.1:${PORTS.peer}`;
    await waitFor(`${peerUrl}/`, peer);
    for (const connections of CONNECTIONS) {
      for (const workload of ['password', 'refresh'] as const) {
        const data: WorkloadData =
          workload === 'password'
            ? { basic: basic(peerClient), ...USER }
            : {
                basic: basic(peerClient),
                refreshTokens: (await many(connections, 8, () => passwordGrant(peerUrl, peerClient))).map((t) => t.refresh_token as string),
              };
        const stop = sampleRss(peer.pid!);
        const result = await http(workload, peerUrl, connections, data);
        const rss = stop();
        const mine = rows.find((r) => r.server === 'gatehouse' && r.workload === workload && r.connections === connections);
        rows.push({
          workload,
          server: 'peer',
          connections,
          rps: result.rps,
          p50: result.p50,
          p99: result.p99,
          errors: result.errors,
          rssMb: rss.totalMb,
          rssProcessMb: rss.processMb,
          bound: 'Gatehouse ÷ peer',
          boundRate: mine?.rps,
          ratio: mine ? mine.rps / result.rps : undefined,
        });
        log(`peer ${workload} c=${connections}: ${result.rps.toFixed(0)} req/s p99 ${result.p99} ms errors ${result.errors}`);
      }
    }
    await stopProcess(peer);
  }

  // ---- output
  const fmt = (n: number | undefined, digits = 0): string => (n === undefined || Number.isNaN(n) ? '–' : n.toFixed(digits));
  const lines = [
    '| workload | server | conns | req/s | p50 ms | p99 ms | errors | peak RSS MB (sum / largest process) | bound | bound /s | ratio |',
    '|---|---|---:|---:|---:|---:|---:|---:|---|---:|---:|',
    ...rows.map(
      (r) =>
        `| ${r.workload} | ${r.server} | ${r.connections ?? ''} | ${fmt(r.rps)} | ${fmt(r.p50)} | ${fmt(r.p99)} | ${r.errors ?? ''} | ${r.rssMb === undefined ? '' : `${r.rssMb} / ${r.rssProcessMb}`} | ${r.bound ?? ''} | ${fmt(r.boundRate)} | ${fmt(r.ratio, 2)} |`,
    ),
  ];
  const boundLines = Object.entries(bounds).map(([name, rate]) => `- ${name}: ${rate.toFixed(1)}/s`);
  process.stdout.write(
    `\n${lines.join('\n')}\n\nBounds in this run (each measured right before its workload; ${workers} server workers):\n${boundLines.join('\n')}\n`,
  );
  mkdirSync(join(root, 'bench/results'), { recursive: true });
  const file = join(root, 'bench/results', `${new Date().toISOString().replace(/[:.]/g, '-')}${quick ? '-quick' : growth ? '-growth' : ''}.json`);
  writeFileSync(
    file,
    JSON.stringify(
      {
        date: new Date().toISOString(),
        cores: cpus().length,
        cpu: cpus()[0]?.model,
        database: databaseServer ? 'postgresql' : 'embedded',
        workers,
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
  // Gatehouse must answer every request with a 2xx; the peer's errors are reported, not fatal.
  const failed = rows.filter((r) => r.server === 'gatehouse' && (r.errors ?? 0) > 0);
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
