import type { Knex } from 'knex';
import { sha256Hex } from '../../src/lib/hash.js';
import { describeWithPostgres, type TestDatabase } from '../helpers/database.js';
import { PROCESS_TEST_TIMEOUT_MS, startServerProcess, type ServerProcess } from '../helpers/process.js';
import { postgresTarget, seedTarget, type ProcessTarget } from '../helpers/targets.js';
import { postTokenTo, type TestClientAuth, type TokenAnswer } from '../helpers/token.js';

/**
 * Crash safety: the real server is killed with SIGKILL in the middle of a load of refreshes and
 * started again. A token is returned only after its rows are committed, so every refresh token a
 * client received is in the database; each family has at most one live refresh token; no row is
 * orphaned; and every chain carries on from the last token it received. REFRESH_REUSE_GRACE covers
 * the refresh that was in flight at the kill (committed, but its answer lost): the client's retry
 * after the restart gets that same successor instead of ending the family.
 */

const FAMILIES = 20;
/** The kill comes once this many refreshes have been answered, however long that takes. */
const REFRESHES_BEFORE_KILL = 3 * FAMILIES;

let target: ProcessTarget;
let database: TestDatabase;
let direct: Knex;
let client: TestClientAuth;
const started: ServerProcess[] = [];
const env = { REFRESH_REUSE_GRACE: '60s' };

function postToken(baseUrl: string, form: Record<string, string>): Promise<TokenAnswer> {
  return postTokenTo(baseUrl, form, client);
}

interface Chain {
  /** Every refresh token this client received, in order. */
  received: string[];
  /** True when a refresh was sent and no answer came back (the kill). */
  inFlightAtKill: boolean;
}

describeWithPostgres('SIGKILL during a load of refreshes loses nothing and breaks no rule', () => {
  beforeAll(async () => {
    target = await postgresTarget();
    const users = Array.from({ length: FAMILIES }, (_, i) => ({ username: `crash-user-${i}`, password: `crash-user-${i} password`, scopes: ['read'] }));
    const secrets = await seedTarget(target, { clients: [{ id: 'crash-app', grantTypes: ['password', 'refresh_token'], scopes: ['read'] }], users });
    client = { basic: ['crash-app', secrets['crash-app'] as string] };
    ({ database } = await target.open());
    direct = database.db;
  }, PROCESS_TEST_TIMEOUT_MS);

  afterAll(async () => {
    for (const server of started) await server.kill();
    await database?.close();
    await target?.dispose();
  });

  test(
    'every received token was committed, one live token per family, no orphans, every chain continues',
    async () => {
      const first = await startServerProcess({ ...target.env, ...env });
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
      let reachedKillPoint = (): void => undefined;
      const killPoint = new Promise<void>((resolve) => (reachedKillPoint = resolve));
      const refreshed = (): number => chains.reduce((sum, chain) => sum + chain.received.length - 1, 0);
      const loops = chains.map(async (chain) => {
        while (!killed) {
          let answer: TokenAnswer;
          try {
            answer = await postToken(first.baseUrl, { grant_type: 'refresh_token', refresh_token: chain.received.at(-1) as string });
          } catch {
            chain.inFlightAtKill = true;
            return;
          }
          if (answer.status !== 200) throw new Error(`refresh failed under load: ${answer.status} ${JSON.stringify(answer.body)}`);
          chain.received.push(answer.body.refresh_token as string);
          if (refreshed() >= REFRESHES_BEFORE_KILL) reachedKillPoint();
        }
      });
      // (A loop that fails ends the wait too, and the test with its error.)
      await Promise.race([killPoint, Promise.all(loops)]);
      first.child.kill('SIGKILL');
      await first.exited;
      killed = true;
      await Promise.all(loops);

      const total = chains.reduce((sum, chain) => sum + chain.received.length, 0);
      if (process.env.DEBUG_CRASH)
        process.stderr.write(`received ${total} refresh tokens; ${chains.filter((c) => c.inFlightAtKill).length} chains in flight at the kill\n`);
      expect(refreshed()).toBeGreaterThan(FAMILIES);

      const second = await startServerProcess({ ...target.env, ...env }, { port: first.port });
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
    },
    PROCESS_TEST_TIMEOUT_MS,
  );
});
