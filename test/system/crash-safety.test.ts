import knexFactory, { type Knex } from 'knex';
import { systemClock } from '../../src/lib/clock.js';
import { sha256Hex } from '../../src/lib/hash.js';
import { CLI_ACTOR } from '../../src/services/actor.js';
import { createClient } from '../../src/services/clients.js';
import { createUser } from '../../src/services/users.js';
import { closeDatabase, openDatabase } from '../../src/store/database.js';
import { migrateToLatest } from '../../src/store/migrate.js';
import { createPostgresDatabase, ensureBuilt, freePort, startServerProcess, type PostgresDatabase, type ServerProcess } from '../helpers/process.js';
import { basicAuth } from '../helpers/server.js';

/**
 * Crash safety: the real server is killed with SIGKILL in the middle of a load of refreshes and
 * started again. A token is returned only after its rows are committed, so every refresh token a
 * client received is in the database; each family has at most one live refresh token; no row is
 * orphaned; and every chain carries on from the last token it received. REFRESH_REUSE_GRACE covers
 * the refresh that was in flight at the kill (committed, but its answer lost): the client's retry
 * after the restart gets that same successor instead of ending the family.
 */

const FAMILIES = 20;
/** The kill comes once this many refreshes have been answered (or after LOAD_MAX_MS on a slow machine). */
const REFRESHES_BEFORE_KILL = 3 * FAMILIES;
const LOAD_MAX_MS = 8000;

let database: PostgresDatabase;
let direct: Knex;
let client: { id: string; secret: string };
const started: ServerProcess[] = [];
const env = { REFRESH_REUSE_GRACE: '60s' };

beforeAll(async () => {
  await ensureBuilt();
  database = await createPostgresDatabase();
  const db = openDatabase({ databaseUrl: database.url });
  try {
    await migrateToLatest(db);
    const created = await createClient(db, systemClock, { id: 'crash-app', grantTypes: ['password', 'refresh_token'], scopes: ['read'] }, CLI_ACTOR);
    client = { id: created.client.id, secret: created.clientSecret as string };
    for (let i = 0; i < FAMILIES; i++) {
      await createUser(db, systemClock, { username: `crash-user-${i}`, password: `crash-user-${i} password`, scopes: ['read'] }, { passwordMinLength: 8 }, CLI_ACTOR);
    }
  } finally {
    await closeDatabase(db);
  }
  direct = knexFactory({ client: 'pg', connection: database.url, pool: { min: 0, max: 2 } });
}, 180_000);

afterAll(async () => {
  for (const server of started) await server.kill();
  await direct?.destroy();
  await database?.drop();
});

async function postToken(baseUrl: string, form: Record<string, string>): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(`${baseUrl}/token`, {
    method: 'POST',
    headers: { Authorization: basicAuth(client.id, client.secret), 'Content-Type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(form).toString(),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

interface Chain {
  /** Every refresh token this client received, in order. */
  received: string[];
  /** True when a refresh was sent and no answer came back (the kill). */
  inFlightAtKill: boolean;
}

describe('SIGKILL during a load of refreshes loses nothing and breaks no rule', () => {
  test('every received token was committed, one live token per family, no orphans, every chain continues', async () => {
    const port = await freePort();
    const first = await startServerProcess(database.url, port, env);
    started.push(first);

    const chains: Chain[] = await Promise.all(
      Array.from({ length: FAMILIES }, async (_, i) => {
        const answer = await postToken(first.baseUrl, { grant_type: 'password', username: `crash-user-${i}`, password: `crash-user-${i} password` });
        expect(answer.status).toBe(200);
        return { received: [answer.body.refresh_token as string], inFlightAtKill: false };
      }),
    );

    // Each family refreshes in a loop, keeping the newest token it was given, until the kill.
    let killed = false;
    const loops = chains.map(async (chain) => {
      while (!killed) {
        let answer: { status: number; body: Record<string, unknown> };
        try {
          answer = await postToken(first.baseUrl, { grant_type: 'refresh_token', refresh_token: chain.received.at(-1) as string });
        } catch {
          chain.inFlightAtKill = true;
          return;
        }
        if (answer.status !== 200) throw new Error(`refresh failed under load: ${answer.status} ${JSON.stringify(answer.body)}`);
        chain.received.push(answer.body.refresh_token as string);
      }
    });
    const refreshed = (): number => chains.reduce((sum, chain) => sum + chain.received.length - 1, 0);
    for (const deadline = Date.now() + LOAD_MAX_MS; refreshed() < REFRESHES_BEFORE_KILL && Date.now() < deadline; ) {
      await new Promise((r) => setTimeout(r, 20));
    }
    first.child.kill('SIGKILL');
    await first.exited;
    killed = true;
    await Promise.all(loops);

    const total = chains.reduce((sum, chain) => sum + chain.received.length, 0);
    if (process.env.DEBUG_CRASH) process.stderr.write(`received ${total} refresh tokens; ${chains.filter((c) => c.inFlightAtKill).length} chains in flight at the kill\n`);
    expect(refreshed()).toBeGreaterThan(FAMILIES);

    const second = await startServerProcess(database.url, port, env);
    started.push(second);

    // A token is answered only after it is committed: each received one is in the table, all but the
    // newest of each chain used.
    const rows: { token_hash: string; grant_id: string; used_at: Date | null }[] = await direct('refresh_tokens').select('token_hash', 'grant_id', 'used_at');
    const byHash = new Map(rows.map((row) => [row.token_hash, row]));
    for (const chain of chains) {
      const grantIds = new Set<string>();
      chain.received.forEach((token, index) => {
        const row = byHash.get(sha256Hex(token));
        expect(row).toBeDefined();
        grantIds.add(row?.grant_id as string);
        if (index < chain.received.length - 1) expect(row?.used_at).not.toBeNull();
        // The newest is unused, unless its refresh was in flight and committed before the kill.
        else if (!chain.inFlightAtKill) expect(row?.used_at).toBeNull();
      });
      expect(grantIds.size).toBe(1);
    }

    // No family has two live refresh tokens; no refresh token without its grant.
    const live = await direct('refresh_tokens').whereNull('used_at').select('grant_id').count('* as live').groupBy('grant_id').havingRaw('count(*) > 1');
    expect(live).toEqual([]);
    const orphans = await direct('refresh_tokens as r').leftJoin('grants as g', 'g.id', 'r.grant_id').whereNull('g.id').count('* as n').first();
    expect(Number(orphans?.n)).toBe(0);
    const revoked = await direct('grants').whereNotNull('revoked_at').count('* as n').first();
    expect(Number(revoked?.n)).toBe(0);

    // Every chain carries on from the newest token it received.
    for (const chain of chains) {
      const answer = await postToken(second.baseUrl, { grant_type: 'refresh_token', refresh_token: chain.received.at(-1) as string });
      expect({ status: answer.status, error: answer.body.error }).toEqual({ status: 200, error: undefined });
      chain.received.push(answer.body.refresh_token as string);
      const next = await postToken(second.baseUrl, { grant_type: 'refresh_token', refresh_token: chain.received.at(-1) as string });
      expect(next.status).toBe(200);
      chain.received.push(next.body.refresh_token as string);
    }

    // An older token of a chain is refused as reuse (and ends that family, as the rules say).
    const longest = chains.reduce((a, b) => (b.received.length > a.received.length ? b : a));
    const old = await postToken(second.baseUrl, { grant_type: 'refresh_token', refresh_token: longest.received[0] as string });
    expect({ status: old.status, error: old.body.error }).toEqual({ status: 400, error: 'invalid_grant' });
    const afterReuse = await postToken(second.baseUrl, { grant_type: 'refresh_token', refresh_token: longest.received.at(-1) as string });
    expect({ status: afterReuse.status, error: afterReuse.body.error }).toEqual({ status: 400, error: 'invalid_grant' });

    await second.kill();
  }, 40_000);
});
