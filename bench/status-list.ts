/**
 * `DATABASE_URL=postgres://… npx tsx bench/status-list.ts [--quick]` — the Token Status List figures
 * of issue 13, in one process on a fresh database made beside DATABASE_URL (dropped afterwards).
 * Not run by CI; ratios measured in one run are what count.
 *
 * 1. Issuing: the client_credentials token path (index + sign) with and without the status claim,
 *    interleaved rounds, the same keys.
 * 2. GET /statuslists/{id} of a full list (2^20 tokens issued, 1% revoked), unchanged: with and
 *    without If-None-Match (304), beside a bare Koa app answering a small body (autocannon).
 * 3. Rebuilding (read the bits, compress, sign) after one revocation.
 * 4. Revoking a user with 10,000 live tokens: the one statement that sets every bit.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import autocannon from 'autocannon';
import Koa from 'koa';
import pg from 'pg';
import { createApp } from '../src/app.js';
import { loadConfig } from '../src/config.js';
import { closeDeps, createDeps } from '../src/deps.js';
import { createLogger } from '../src/logger.js';
import { CLI_ACTOR } from '../src/services/actor.js';
import { createClient } from '../src/services/clients.js';
import { STATUS_LIST_SIZE, statusListUri } from '../src/services/status-lists.js';
import { createUser } from '../src/services/users.js';
import { closeDatabase, openDatabase } from '../src/store/database.js';
import { migrateToLatest } from '../src/store/migrate.js';
import { flipGrantTokens, flipStatusEntry } from '../src/store/status-lists-repository.js';
import { signAccessToken } from '../src/tokens/access-token.js';

const quick = process.argv.includes('--quick');
const base = process.env.DATABASE_URL;
if (!base) throw new Error('DATABASE_URL: a PostgreSQL server where this may create a database');
const name = `gatehouse_bench_status_${randomBytes(4).toString('hex')}`;
const admin = new pg.Client({ connectionString: base });
await admin.connect();
await admin.query(`CREATE DATABASE ${name}`);
const url = new URL(base);
url.pathname = `/${name}`;

const listen = (handler: Parameters<typeof createServer>[1]): Promise<{ server: Server; url: string }> =>
  new Promise((resolve) => {
    const server = createServer(handler);
    server.listen(0, '127.0.0.1', () => resolve({ server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` }));
  });
const load = async (target: string, headers: Record<string, string> = {}): Promise<number> => {
  const result = await autocannon({ url: target, connections: 50, duration: quick ? 3 : 8, headers });
  if (result.non2xx > 0 && !headers['if-none-match']) throw new Error(`${target}: ${result.non2xx} non-2xx answers`);
  return result.requests.average;
};
const lines: string[] = [];
const report = (line: string): void => {
  lines.push(line);
  process.stderr.write(`[status-list bench] ${line}\n`);
};

const db = openDatabase({ databaseUrl: url.toString(), poolMax: 10 });
try {
  await migrateToLatest(db);
  const config = loadConfig({ DATABASE_URL: url.toString(), KEY_ENCRYPTION_SECRET: randomBytes(32).toString('hex'), LOG_LEVEL: 'silent' });
  const deps = await createDeps(config, db, { logger: createLogger('silent') });
  const { client } = await createClient(deps, { id: 'bench', grantTypes: ['client_credentials', 'password', 'refresh_token'], scopes: ['api'] }, CLI_ACTOR);

  // 1. Issuing, with and without the status claim, interleaved.
  const key = deps.keys.signingKey();
  const input = { issuer: config.issuer, subject: client.id, audience: config.issuer, clientId: client.id, scope: 'api', ttlSeconds: 900 };
  const rounds = quick ? 4 : 10;
  const perRound = quick ? 500 : 2000;
  const elapsed = { with: 0, without: 0 };
  for (let round = 0; round < rounds; round++) {
    for (const variant of round % 2 === 0 ? (['with', 'without'] as const) : (['without', 'with'] as const)) {
      const start = performance.now();
      for (let i = 0; i < perRound; i++) {
        const now = new Date();
        const status = variant === 'with' ? await deps.statusLists.allocator.allocate(client) : undefined;
        await signAccessToken(key, { ...input, now, status });
      }
      elapsed[variant] += performance.now() - start;
    }
  }
  const issueWith = (rounds * perRound) / (elapsed.with / 1000);
  const issueWithout = (rounds * perRound) / (elapsed.without / 1000);
  report(`issue (index + sign): with status ${issueWith.toFixed(0)}/s, without ${issueWithout.toFixed(0)}/s, ratio ${(issueWith / issueWithout).toFixed(3)}`);

  // 2. A full list: 2^20 indices handed out, 1% of them revoked.
  let listId = 0;
  for (let i = 0; i < STATUS_LIST_SIZE; i++) {
    const entry = await deps.statusLists.allocator.allocate({ ...client, id: `bench-${i >> 16}` });
    if (listId === 0) listId = entry.listId;
  }
  await db.raw(`INSERT INTO status_list_revocations (list_id, idx) SELECT ?, i FROM generate_series(0, ? - 1, 100) AS i ON CONFLICT DO NOTHING`, [
    listId,
    STATUS_LIST_SIZE,
  ]);
  await db('status_lists').where({ id: listId }).increment('version', 1);
  const app = await listen(createApp(deps).callback());
  const bare = new Koa();
  bare.use((ctx) => {
    ctx.body = { ok: true, keys: [] };
  });
  const bareServer = await listen(bare.callback());
  const path = new URL(statusListUri(config.issuer, listId)).pathname;
  const first = await fetch(`${app.url}${path}`);
  const etag = first.headers.get('etag') as string;
  report(`list ${listId}: ${(await first.text()).length} bytes of JWT for ${STATUS_LIST_SIZE} entries, 1% set`);
  const bareRate = await load(bareServer.url);
  const fullRate = await load(`${app.url}${path}`);
  const revalidateRate = await load(`${app.url}${path}`, { 'if-none-match': etag });
  report(
    `GET ${path} unchanged: ${fullRate.toFixed(0)}/s; with If-None-Match (304): ${revalidateRate.toFixed(0)}/s; bare Koa ${bareRate.toFixed(0)}/s; 304 ÷ bare ${(revalidateRate / bareRate).toFixed(2)}`,
  );

  // 3. Rebuild after a revocation.
  const rebuilds: number[] = [];
  for (let i = 0; i < (quick ? 5 : 20); i++) {
    await flipStatusEntry(db, { listId, idx: 1 + i * 7 });
    const start = performance.now();
    await deps.statusLists.publisher.serve(listId);
    rebuilds.push(performance.now() - start);
  }
  rebuilds.sort((a, b) => a - b);
  report(`rebuild after a revocation: median ${rebuilds[rebuilds.length >> 1]?.toFixed(1)} ms, max ${rebuilds.at(-1)?.toFixed(1)} ms`);

  // 4. A user with 10,000 live tokens: 100 grants of 100 refreshes each.
  const user = await createUser(deps, { username: 'bench-user', password: 'bench-password-1234', scopes: ['api'] }, CLI_ACTOR);
  const now = new Date();
  for (let g = 0; g < 100; g++) {
    const grantId = randomUUID();
    const first = await deps.statusLists.allocator.allocate(client);
    await db('grants').insert({
      id: grantId,
      client_id: client.id,
      user_id: user.id,
      scopes: ['api'],
      created_at: now,
      expires_at: new Date(now.getTime() + 86_400_000),
      status_list_id: first.listId,
      status_idx: first.idx,
    });
    const rows = [];
    for (let r = 0; r < 99; r++) {
      const entry = await deps.statusLists.allocator.allocate(client);
      rows.push({
        token_hash: randomBytes(32).toString('hex'),
        grant_id: grantId,
        created_at: now,
        expires_at: new Date(now.getTime() + 86_400_000),
        status_list_id: entry.listId,
        status_idx: entry.idx,
      });
    }
    await db('refresh_tokens').insert(rows);
  }
  await db.raw('ANALYZE');
  const start = performance.now();
  const flipped = await db.transaction((tx) => flipGrantTokens(tx, { userId: user.id }));
  report(`revoking a user with 10,000 live tokens: ${flipped} bits in one statement, ${(performance.now() - start).toFixed(1)} ms`);

  await new Promise((resolve) => app.server.close(resolve));
  await new Promise((resolve) => bareServer.server.close(resolve));
  await closeDeps(deps);
} finally {
  await closeDatabase(db);
  await admin.query(`DROP DATABASE IF EXISTS ${name}`);
  await admin.end();
}
process.stdout.write(`${lines.join('\n')}\n`);
