import { getListFromStatusListJWT } from '@sd-jwt/jwt-status-list';
import fc from 'fast-check';
import { createRemoteJWKSet, decodeJwt, jwtVerify, type JWTVerifyGetKey } from 'jose';
import { statusJti } from '../../src/lib/status-jti.js';
import { cleanUpExpiredRows } from '../../src/services/housekeeping.js';
import { flipRevokedAccessToken, STATUS_LIST_SIZE } from '../../src/services/status-lists.js';
import { TestClock } from '../helpers/clock.js';
import { readStatusList, type StatusListEntries } from '../helpers/status-list.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { adminToken, clientCredentialsToken, introspector, passwordTokens, refresh, type TestClient } from '../helpers/token.js';

const TTL_SECONDS = 2;

interface StatusClaim {
  status: { status_list: { idx: number; uri: string } };
}

/**
 * A resource server as docs/resource-servers.md describes it: jose verifies the access token and
 * the status list token against the JWKS, and the bit is read from the list (readStatusList, which
 * reads what @sd-jwt/jwt-status-list reads, in a fraction of its time: see 'the list reads the same
 * …' below). It fetches the list afresh on every call (the worst case of "at most ttl" caching) and
 * never calls /introspect.
 */
function resourceServer(issuer: string, clock: TestClock, listBase?: string) {
  const jwks: JWTVerifyGetKey = createRemoteJWKSet(new URL(`${issuer}/.well-known/jwks.json`));
  return async (token: string): Promise<number> => {
    const { payload } = await jwtVerify<StatusClaim>(token, jwks, { issuer, typ: 'at+jwt', currentDate: clock.now() });
    const { idx, uri } = payload.status.status_list;
    const url = listBase ? `${listBase}/statuslists/${uri.split('/').pop()}` : uri;
    const response = await fetch(url);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('application/statuslist+jwt');
    const listToken = await response.text();
    const { payload: list } = await jwtVerify(listToken, jwks, { typ: 'statuslist+jwt', currentDate: clock.now(), requiredClaims: ['iat', 'exp'] });
    expect(list.sub).toBe(uri);
    expect(list.ttl).toBe(TTL_SECONDS);
    return readStatusList(listToken).getStatus(idx);
  };
}

/** RFC 7009 at one instance, as `client`. */
const revokeAt = (instance: TestServer, client: TestClient, token: string, hint?: string) =>
  instance.http
    .post('/revoke')
    .auth(client.clientId, client.clientSecret as string)
    .type('form')
    .send(hint ? { token, token_type_hint: hint } : { token })
    .expect(200);

const statusOf = (token: string) => (decodeJwt(token) as unknown as StatusClaim).status.status_list;

describe('every way a token can die sets its status list bit, and nothing else does', () => {
  let server: TestServer;
  let second: TestServer;
  let clock: TestClock;
  let bitOf: (token: string) => Promise<number>;
  let bitAtSecond: (token: string) => Promise<number>;
  let admin: string;
  let app: TestClient;
  let bystander: string;
  let users = 0;
  // One user for the tests that end grants (a new login after a revocation is a new grant).
  let alice: { id: string; username: string; password: string };

  beforeAll(async () => {
    clock = new TestClock();
    const env = { STATUS_LIST_TTL: `${TTL_SECONDS}s`, REFRESH_REUSE_GRACE: '0' };
    server = await startTestServer({ env, clock });
    // A second instance of the same issuer on the same database (behind one load balancer).
    second = await startTestServer({
      env: { ...env, ISSUER: server.baseUrl },
      clock,
      // Closed once, by the first server.
      database: { ...server.database, close: async () => undefined },
    });
    bitOf = resourceServer(server.baseUrl, clock);
    // The same resource server, fetching the lists from the second instance.
    bitAtSecond = resourceServer(server.baseUrl, clock, second.baseUrl);
    admin = `Bearer ${await adminToken(server, ['admin:tokens', 'admin:clients', 'admin:users'], 'root-admin')}`;
    app = await server.createClient({ id: 'app' });
    alice = await server.createUser({ username: 'alice' });
    const other = await server.createUser({ username: 'bystander' });
    bystander = (await passwordTokens(server, app, other)).access_token;
  });
  afterEach(async () => {
    // Unrelated tokens stay valid whatever was revoked.
    expect(await bitOf(bystander)).toBe(0);
  });
  afterAll(async () => {
    await second.close();
    await server.close();
  });

  const newUser = () => server.createUser({ username: `user-${++users}` });
  const revoke = async (body: Record<string, string>, expected?: number) => {
    const response = await server.http.post('/admin/revocations').set('Authorization', admin).send(body);
    expect(response.status).toBe(200);
    if (expected !== undefined) expect(response.body).toEqual({ revoked: expected });
  };

  it('every access token names its own index in a list of this issuer', async () => {
    const user = alice;
    const first = await passwordTokens(server, app, user);
    const renewed = (await refresh(server, app, first.refresh_token as string)).body as { access_token: string };
    const machine = await clientCredentialsToken(server, app);
    const entries = [first.access_token, renewed.access_token, machine].map(statusOf);
    expect(new Set(entries.map((e) => `${e.uri}#${e.idx}`)).size).toBe(3);
    for (const entry of entries) expect(entry.uri).toMatch(new RegExp(`^${server.baseUrl}/statuslists/[1-9][0-9]*$`));
    for (const token of [first.access_token, renewed.access_token, machine]) expect(await bitOf(token)).toBe(0);
  });

  it('RFC 7009: an access token sets its own bit only; a refresh token those of its whole family', async () => {
    const user = alice;
    const first = await passwordTokens(server, app, user);
    const renewed = (await refresh(server, app, first.refresh_token as string)).body as { access_token: string; refresh_token: string };
    await revokeAt(server, app, first.access_token);
    expect(await bitOf(first.access_token)).toBe(1);
    expect(await bitOf(renewed.access_token)).toBe(0);

    const other = await passwordTokens(server, app, user);
    const otherRenewed = (await refresh(server, app, other.refresh_token as string)).body as { access_token: string; refresh_token: string };
    await revokeAt(server, app, otherRenewed.refresh_token, 'refresh_token');
    expect(await bitOf(other.access_token)).toBe(1);
    expect(await bitOf(otherRenewed.access_token)).toBe(1);
    // The first family is another grant: untouched.
    expect(await bitOf(renewed.access_token)).toBe(0);
  });

  it('the list reads the same with @sd-jwt/jwt-status-list as with the reader the other tests use', async () => {
    const revoked = [await clientCredentialsToken(server, app), await clientCredentialsToken(server, app)];
    const kept = await clientCredentialsToken(server, app);
    for (const token of revoked) await revokeAt(server, app, token);
    const { uri, idx } = statusOf(kept);
    const listToken = (await server.http.get(new URL(uri).pathname).expect(200)).text;
    const library = getListFromStatusListJWT(listToken);
    const reader = readStatusList(listToken);
    expect(reader.bits).toBe(library.getBitsPerStatus());
    expect(reader.size).toBe(STATUS_LIST_SIZE);
    // Every entry, not only those of the tokens above: a reader reading the wrong bit of a byte would agree on none of the set ones.
    const set: number[] = [];
    for (let index = 0; index < reader.size; index++) {
      const status = library.getStatus(index);
      if (reader.getStatus(index) !== status) throw new Error(`entry ${index}: the library reads ${status}, the reader ${reader.getStatus(index)}`);
      if (status !== 0) set.push(index);
    }
    for (const token of revoked) if (statusOf(token).uri === uri) expect(set).toContain(statusOf(token).idx);
    expect(set).not.toContain(idx);
    expect(set.length).toBeGreaterThanOrEqual(1);
  });

  it('admin revocation by username, user id, grant id and jti', async () => {
    for (const by of ['username', 'user_id', 'grant_id', 'jti'] as const) {
      const user = alice;
      const first = await passwordTokens(server, app, user);
      const renewed = (await refresh(server, app, first.refresh_token as string)).body as { access_token: string };
      const claims = decodeJwt(renewed.access_token) as { sid: string; jti: string };
      const target = { username: user.username, user_id: user.id, grant_id: claims.sid, jti: claims.jti }[by];
      await revoke({ [by]: target });
      expect([by, await bitOf(renewed.access_token)]).toEqual([by, 1]);
      // A jti names one token; the others end the grant.
      expect([by, await bitOf(first.access_token)]).toEqual([by, by === 'jti' ? 0 : 1]);
    }
  });

  it('refresh token reuse sets the bits of the whole family', async () => {
    const user = alice;
    const first = await passwordTokens(server, app, user);
    const renewed = (await refresh(server, app, first.refresh_token as string)).body as { access_token: string };
    expect((await refresh(server, app, first.refresh_token as string)).status).toBe(400);
    expect(await bitOf(first.access_token)).toBe(1);
    expect(await bitOf(renewed.access_token)).toBe(1);
  });

  it('disabling a user, changing the password and deleting the user', async () => {
    for (const change of ['disable', 'password', 'delete'] as const) {
      const user = await newUser();
      const tokens = await passwordTokens(server, app, user);
      const request =
        change === 'delete'
          ? server.http.delete(`/admin/users/${user.id}`)
          : server.http.patch(`/admin/users/${user.id}`).send(change === 'disable' ? { disabled: true } : { password: 'a-brand-new-password-1' });
      expect((await request.set('Authorization', admin)).status).toBeLessThan(300);
      expect([change, await bitOf(tokens.access_token)]).toEqual([change, 1]);
    }
  });

  it('revocation by client sets the bits of its user and client_credentials tokens issued before it, not of those after', async () => {
    const service = await server.createClient({ id: 'service' });
    const user = alice;
    const userToken = (await passwordTokens(server, service, user)).access_token;
    const machine = await clientCredentialsToken(server, service);
    const machineAtSecond = await clientCredentialsToken(second, service);
    await revoke({ client_id: 'service' }, 1);
    for (const token of [userToken, machine, machineAtSecond]) expect(await bitOf(token)).toBe(1);
    const after = await clientCredentialsToken(server, service);
    expect(await bitOf(after)).toBe(0);
    expect(await bitOf(bystander)).toBe(0);
  });

  it('a token another instance issues from a block the revocation ended, before it learns of it, is revoked at /introspect too', async () => {
    const service = await server.createClient({ id: 'service-2' });
    const atSecond = (): Promise<string> => clientCredentialsToken(second, service);
    const ask = await introspector(second, 'introspector-at-second');
    const before = await atSecond(); // the second instance now holds the client and a block for it
    await revoke({ client_id: 'service-2' });
    clock.advance(1); // issued after the revocation, not in the same millisecond
    // Asked for at once, the second instance still has the client as it was (its cache of client
    // authentications keeps it up to 2 s) and takes the next index of its block, which the
    // revocation has just ended. Whatever the timing, the status list and /introspect must agree.
    const racing = await atSecond();
    const introspect = async (token: string) => (await ask(token)).body.active as boolean;
    const sameBlock = statusOf(racing).uri === statusOf(before).uri && statusOf(racing).idx === statusOf(before).idx + 1;
    const bit = await bitOf(racing);
    expect({ sameBlock, bit, active: await introspect(racing) }).toEqual(
      sameBlock ? { sameBlock, bit: 1, active: false } : { sameBlock, bit: 0, active: true },
    );
    expect({ bit: await bitOf(before), active: await introspect(before) }).toEqual({ bit: 1, active: false });
  });

  it('deleting a client sets the bits of all its tokens', async () => {
    const doomed = await server.createClient({ id: 'doomed' });
    const user = alice;
    const tokens = [(await passwordTokens(server, doomed, user)).access_token, await clientCredentialsToken(server, doomed)];
    expect((await server.http.delete('/admin/clients/doomed').set('Authorization', admin)).status).toBe(204);
    for (const token of tokens) expect(await bitOf(token)).toBe(1);
  });

  it('a revocation at either instance is in the list the other serves on its next request', async () => {
    const user = alice;
    const a = await passwordTokens(server, app, user);
    const b = (
      await second.http
        .post('/token')
        .auth(app.clientId, app.clientSecret as string)
        .type('form')
        .send({
          grant_type: 'password',
          username: user.username,
          password: user.password,
        })
    ).body as { access_token: string };
    // Both instances have built and cached the list(s) before the revocations.
    for (const token of [a.access_token, b.access_token]) {
      expect(await bitOf(token)).toBe(0);
      expect(await bitAtSecond(token)).toBe(0);
    }
    await revokeAt(second, app, a.access_token);
    expect(await bitOf(a.access_token)).toBe(1);
    expect(await bitAtSecond(a.access_token)).toBe(1);
    await revokeAt(server, app, b.access_token);
    expect(await bitAtSecond(b.access_token)).toBe(1);
    expect(await bitOf(b.access_token)).toBe(1);
  });

  it('the same signed token and ETag while the list does not change; 304 on If-None-Match; a new one after a revocation', async () => {
    const user = alice;
    const token = (await passwordTokens(server, app, user)).access_token;
    const { uri } = statusOf(token);
    const path = new URL(uri).pathname;
    const first = await server.http.get(path).expect(200);
    const again = await server.http.get(path).expect(200);
    expect(again.text).toBe(first.text);
    expect(again.headers.etag).toBe(first.headers.etag);
    expect(first.headers['cache-control']).toBe(`public, max-age=${TTL_SECONDS}`);
    const notModified = await server.http.get(path).set('If-None-Match', first.headers.etag as string);
    expect(notModified.status).toBe(304);
    expect(notModified.text).toBe('');
    await revoke({ jti: (decodeJwt(token) as { jti: string }).jti });
    const changed = await server.http
      .get(path)
      .set('If-None-Match', first.headers.etag as string)
      .expect(200);
    expect(changed.headers.etag).not.toBe(first.headers.etag);
    expect(await bitOf(token)).toBe(1);
  });

  it('unknown and malformed list ids are 404 with an RFC 6749 error body', async () => {
    for (const id of ['999999', '0', 'abc', '-1', '1.5', '99999999999', '2147483648', '%00', 'x'.repeat(300)]) {
      const response = await server.http.get(`/statuslists/${id}`);
      expect([id, response.status, response.body.error]).toEqual([id, 404, 'not_found']);
    }
    expect((await server.http.post('/statuslists/1')).status).toBe(405);
  });

  it('metadata names the aggregation endpoint, which lists the live lists', async () => {
    const metadata = await server.http.get('/.well-known/oauth-authorization-server').expect(200);
    expect(metadata.body.status_list_aggregation_endpoint).toBe(`${server.baseUrl}/statuslists`);
    const aggregation = await server.http.get('/statuslists').expect(200);
    expect(aggregation.body.status_lists).toContain(statusOf(bystander).uri);
  });

  it('indices are never given twice while a holder may be live, across instances, expiry and clean-up (property)', async () => {
    const allocators = [server.deps.statusLists.allocator, second.deps.statusLists.allocator];
    const clients = ['app', 'root-admin'].map((id) => ({ id, createdAt: new Date(0), tokensValidAfter: null }));
    const accessTokenTtl = server.deps.config.accessTokenTtl;
    await fc.assert(
      fc.asyncProperty(
        fc.array(
          fc.oneof(
            fc.record({ op: fc.constant('issue' as const), instance: fc.nat(1), client: fc.nat(1), count: fc.integer({ min: 1, max: 40 }) }),
            fc.record({ op: fc.constant('advance' as const), seconds: fc.integer({ min: 1, max: 3 * accessTokenTtl }) }),
            fc.record({ op: fc.constant('revoke' as const), pick: fc.nat() }),
            fc.record({ op: fc.constant('clean' as const) }),
          ),
          { maxLength: 25 },
        ),
        async (operations) => {
          // Every entry handed out, with the moment its token expires.
          const held = new Map<string, { listId: number; idx: number; expiresAt: number; revoked: boolean }>();
          for (const operation of operations) {
            if (operation.op === 'issue') {
              for (let i = 0; i < operation.count; i++) {
                const entry = await (allocators[operation.instance] as (typeof allocators)[0]).allocate(clients[operation.client] as (typeof clients)[0]);
                const key = `${entry.listId}#${entry.idx}`;
                const previous = held.get(key);
                // Given again only if every earlier holder had expired (never, in fact: lists are not refilled).
                expect(previous === undefined || previous.expiresAt <= clock.now().getTime()).toBe(true);
                expect(entry.idx).toBeLessThan(STATUS_LIST_SIZE);
                held.set(key, { listId: entry.listId, idx: entry.idx, expiresAt: clock.now().getTime() + accessTokenTtl * 1000, revoked: false });
              }
            } else if (operation.op === 'advance') {
              clock.advance(operation.seconds);
            } else if (operation.op === 'revoke') {
              const live = [...held.values()].filter((h) => h.expiresAt > clock.now().getTime() && !h.revoked);
              const victim = live[operation.pick % Math.max(1, live.length)];
              if (victim) {
                // As a revocation by jti does: the jti names the entry.
                await server.database.db.transaction((tx) => flipRevokedAccessToken(tx, statusJti(clock.now().getTime(), victim) as string));
                victim.revoked = true;
              }
            } else {
              await cleanUpExpiredRows(server.database.db, clock.now(), { auditRetention: 90 * 86400 });
            }
          }
          // Every live holder reads exactly its own state: 1 if revoked, else 0 (a recycled index
          // carrying an old revoked bit would read 1 here).
          const byList = new Map<number, StatusListEntries>();
          for (const holder of held.values()) {
            if (holder.expiresAt <= clock.now().getTime()) continue;
            if (!byList.has(holder.listId)) {
              const served = await server.deps.statusLists.publisher.serve(holder.listId);
              expect(served).toBeDefined();
              byList.set(holder.listId, readStatusList((served as { token: string }).token));
            }
            expect((byList.get(holder.listId) as StatusListEntries).getStatus(holder.idx)).toBe(holder.revoked ? 1 : 0);
          }
        },
      ),
      { numRuns: 8, seed: Number(process.env.FUZZ_SEED ?? 13) },
    );
    // The clock has moved on: a bystander whose token is still valid.
    bystander = (await passwordTokens(server, app, await newUser())).access_token;
  });

  it('housekeeping removes a list once every token naming it has expired: its URI is 404 and it leaves the aggregation', async () => {
    const token = await clientCredentialsToken(server, app);
    const { uri } = statusOf(token);
    const path = new URL(uri).pathname;
    await server.http.get(path).expect(200);
    clock.advance(server.deps.config.accessTokenTtl);
    await cleanUpExpiredRows(server.database.db, clock.now(), { auditRetention: 90 * 86400 });
    // Still live: the token has expired, but tokens from the block this instance leased with it
    // may be issued for a while yet, and live that long.
    await server.http.get(path).expect(200);
    clock.advance(86400);
    await cleanUpExpiredRows(server.database.db, clock.now(), { auditRetention: 90 * 86400 });
    expect((await server.http.get(path)).status).toBe(404);
    expect((await second.http.get(path)).status).toBe(404);
    expect((await server.http.get('/statuslists').expect(200)).body.status_lists).not.toContain(uri);
    // The bystander's token has long expired too; a fresh one verifies and reads 0.
    const other = await server.createUser({ username: 'bystander-2' });
    bystander = (await passwordTokens(server, app, other)).access_token;
    expect(statusOf(bystander).uri).not.toBe(uri);
  });
});

describe('a refresh retried within REFRESH_REUSE_GRACE repeats the access token status entry of the first answer', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ env: { REFRESH_REUSE_GRACE: '30s', STATUS_LIST_TTL: `${TTL_SECONDS}s` } });
  });
  afterAll(() => server.close());

  it('shares the index, and revoking the grant sets it', async () => {
    const app = await server.createClient({ id: 'app' });
    const user = await server.createUser({ username: 'carol' });
    const first = await passwordTokens(server, app, user);
    const answer = (await refresh(server, app, first.refresh_token as string)).body as { access_token: string; refresh_token: string };
    const retried = (await refresh(server, app, first.refresh_token as string)).body as { access_token: string; refresh_token: string };
    expect(retried.refresh_token).toBe(answer.refresh_token);
    expect(statusOf(retried.access_token)).toEqual(statusOf(answer.access_token));
    expect(statusOf(first.access_token)).not.toEqual(statusOf(answer.access_token));
    const bitOf = resourceServer(server.baseUrl, new TestClock());
    expect(await bitOf(retried.access_token)).toBe(0);
    await revokeAt(server, app, answer.refresh_token);
    for (const token of [first.access_token, answer.access_token, retried.access_token]) expect(await bitOf(token)).toBe(1);
  });
});
