import { decodeJwt } from 'jose';
import { TestClock } from '../helpers/clock.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { adminToken, passwordTokens, refresh } from '../helpers/token.js';

/**
 * What the admin console needs from the admin API beyond the original lists: finding users by part
 * of a name, a user's sessions by user id and when each was last refreshed, when the keys rotate
 * next, and the audit log by target and time.
 */

let server: TestServer;
let clock: TestClock;
let auth: string;
let web: { clientId: string; clientSecret: string | null };

beforeAll(async () => {
  clock = new TestClock();
  server = await startTestServer({ clock, env: { KEY_ROTATION_INTERVAL: '1h', KEY_PUBLISH_AHEAD: '10m' } });
  auth = `Bearer ${await adminToken(server, ['admin:tokens', 'admin:keys', 'admin:clients', 'admin:users'], 'root-admin')}`;
  web = await server.createClient({ id: 'web', grantTypes: ['password', 'refresh_token'] });
});
afterAll(() => server.close());

const get = (path: string, query: Record<string, string> = {}) => server.http.get(path).query(query).set('Authorization', auth);
const usernames = (body: { items: { username: string }[] }) => body.items.map((user) => user.username);

describe('GET /admin/users?search= finds users by part of their username, email or name', () => {
  beforeAll(async () => {
    await server.createUser({ username: 'alice.martin', email: 'alice@example.com' });
    await server.createUser({ username: 'bob', email: 'robert@EXAMPLE.org', name: 'Robert Alison' });
    await server.createUser({ username: 'carol', name: 'Carol' });
    await server.createUser({ username: 'dan_100%' });
    await server.createUser({ username: 'José' });
  });

  it('matches any of the three, ignoring case, in username order', async () => {
    expect(usernames((await get('/admin/users', { search: 'ALI' })).body)).toEqual(['alice.martin', 'bob']);
    expect(usernames((await get('/admin/users', { search: 'example.org' })).body)).toEqual(['bob']);
    expect(usernames((await get('/admin/users', { search: 'carol' })).body)).toEqual(['carol']);
    expect(usernames((await get('/admin/users', { search: 'nobody' })).body)).toEqual([]);
  });

  it('takes % and _ literally, and the text in NFC like usernames', async () => {
    expect(usernames((await get('/admin/users', { search: '_100%' })).body)).toEqual(['dan_100%']);
    expect(usernames((await get('/admin/users', { search: '%' })).body)).toEqual(['dan_100%']);
    expect(usernames((await get('/admin/users', { search: 'a_i' })).body)).toEqual([]);
    expect(usernames((await get('/admin/users', { search: 'Jose\u0301' })).body)).toEqual(['José']);
  });

  it('pages through the matches with the cursor; an empty search is no filter', async () => {
    const first = await get('/admin/users', { search: 'a', limit: '2' });
    expect(usernames(first.body)).toEqual(['alice.martin', 'bob']);
    const second = await get('/admin/users', { search: 'a', limit: '2', cursor: first.body.next_cursor });
    expect(usernames(second.body)).toEqual(['carol', 'dan_100%']);
    expect(second.body.next_cursor).toBeNull();
    expect((await get('/admin/users', { search: '' })).body.items).toHaveLength(5);
  });
});

describe("GET /admin/grants?user_id= lists one user's sessions, each with when it was last refreshed", () => {
  it('filters by user id, and says null until a refresh, then the time of the latest one', async () => {
    const erin = await server.createUser({ username: 'erin' });
    const frank = await server.createUser({ username: 'frank' });
    const session = await passwordTokens(server, web, erin);
    await passwordTokens(server, web, frank);
    const grantId = decodeJwt(session.access_token).sid as string;

    const before = await get('/admin/grants', { user_id: erin.id });
    expect(before.status).toBe(200);
    expect(before.body.items).toEqual([expect.objectContaining({ grant_id: grantId, username: 'erin', last_refreshed_at: null })]);

    clock.advance(60);
    const first = await refresh(server, web, session.refresh_token as string);
    expect(first.status).toBe(200);
    clock.advance(60);
    const refreshedAt = clock.now().toISOString();
    expect((await refresh(server, web, first.body.refresh_token)).status).toBe(200);
    const after = await get('/admin/grants', { user_id: erin.id });
    expect(after.body.items).toEqual([expect.objectContaining({ grant_id: grantId, last_refreshed_at: refreshedAt })]);
    expect(after.body.items[0].created_at < refreshedAt).toBe(true);
  });

  it('finds nothing for an id no user can have', async () => {
    for (const id of ['not-a-uuid', '00000000-0000-4000-8000-000000000000']) {
      const response = await get('/admin/grants', { user_id: id });
      expect({ id, status: response.status, items: response.body.items }).toEqual({ id, status: 200, items: [] });
    }
  });
});

describe('/admin/keys takes no query parameters', () => {
  it('refuses any, as the other lists refuse unknown ones, and rotates nothing', async () => {
    const before = (await get('/admin/keys')).body.items;
    for (const query of ['limit=abc', 'cursor=x', 'foo=1']) {
      const listed = await server.http.get(`/admin/keys?${query}`).set('Authorization', auth);
      expect({ query, status: listed.status, error: listed.body.error }).toEqual({ query, status: 400, error: 'invalid_request' });
    }
    const rotated = await server.http.post('/admin/keys/rotate?foo=1').set('Authorization', auth).send({});
    expect({ status: rotated.status, error: rotated.body.error }).toEqual({ status: 400, error: 'invalid_request' });
    expect((await get('/admin/keys')).body.items).toEqual(before);
  });
});

describe('GET /admin/keys says when the scheduled rotation is due', () => {
  it('is when the current key has signed KEY_ROTATION_INTERVAL and the next has been published KEY_PUBLISH_AHEAD', async () => {
    const listed = await get('/admin/keys');
    expect(listed.status).toBe(200);
    const current = listed.body.items.find((key: { state: string }) => key.state === 'current');
    const next = listed.body.items.find((key: { state: string }) => key.state === 'next');
    const due = Math.max(Date.parse(current.activated_at) + 3600_000, Date.parse(next.created_at) + 600_000);
    expect(listed.body).toMatchObject({ next_cursor: null, next_rotation_at: new Date(due).toISOString() });

    // Rotating now starts the interval again, and the new next key must be published long enough.
    clock.advance(120);
    expect((await server.http.post('/admin/keys/rotate').set('Authorization', auth)).status).toBe(200);
    const rotated = await get('/admin/keys');
    expect(rotated.body.next_rotation_at).toBe(new Date(clock.now().getTime() + 3600_000).toISOString());
  });
});

describe('GET /admin/audit filters by target and by time', () => {
  let gina: { id: string; username: string; password: string };
  let start: string;
  let middle: string;

  beforeAll(async () => {
    clock.advance(3600);
    // The clock has passed the first admin token's expiry.
    auth = `Bearer ${await adminToken(server, ['admin:tokens', 'admin:users', 'admin:clients'], 'audit-admin')}`;
    clock.advance(60);
    start = clock.now().toISOString();
    const created = await server.http
      .post('/admin/users')
      .set('Authorization', auth)
      .send({ username: 'gina', password: 'gina password', scopes: ['read'] });
    gina = { id: created.body.id, username: 'gina', password: 'gina password' };
    await passwordTokens(server, web, gina);
    clock.advance(60);
    middle = clock.now().toISOString();
    await server.http.post('/admin/revocations').set('Authorization', auth).send({ username: 'gina' });
    await server.http
      .post('/admin/clients')
      .set('Authorization', auth)
      .send({ client_id: 'billing', grant_types: ['client_credentials'], scopes: ['billing'] });
    clock.advance(60);
    await server.http.patch(`/admin/users/${gina.id}`).set('Authorization', auth).send({ disabled: true });
  });

  const actions = (body: { items: { action: string }[] }) => body.items.map((entry) => entry.action);

  it("finds the entries that name a user's id, a username, or a client id", async () => {
    expect(actions((await get('/admin/audit', { target: gina.id })).body)).toEqual(['user.update', 'grants.revoke', 'grants.revoke', 'user.create']);
    expect(actions((await get('/admin/audit', { target: 'gina' })).body)).toEqual(['user.create']);
    expect(actions((await get('/admin/audit', { target: 'billing' })).body)).toEqual(['client.create']);
    expect((await get('/admin/audit', { target: 'nobody' })).body.items).toEqual([]);
  });

  it('names a user, a grant and a token by the id in lower case, however the caller wrote it', async () => {
    const harry = await server.createUser({ username: 'harry', scopes: ['read'] });
    const first = decodeJwt((await passwordTokens(server, web, harry)).access_token);
    const second = decodeJwt((await passwordTokens(server, web, harry)).access_token);
    const upper = (id: unknown) => String(id).toUpperCase();
    const send = (body: object) => server.http.post('/admin/revocations').set('Authorization', auth).send(body);
    expect((await send({ jti: upper(first.jti) })).body).toEqual({ revoked: 1 });
    expect((await send({ grant_id: upper(first.sid) })).body).toEqual({ revoked: 1 });
    expect((await send({ user_id: upper(harry.id) })).body).toEqual({ revoked: 1 });
    expect(
      (
        await server.http
          .patch(`/admin/users/${upper(harry.id)}`)
          .set('Authorization', auth)
          .send({ name: 'Harry' })
      ).status,
    ).toBe(200);
    expect((await server.http.delete(`/admin/users/${upper(harry.id)}`).set('Authorization', auth)).status).toBe(204);
    expect(actions((await get('/admin/audit', { target: harry.id })).body)).toEqual(['user.delete', 'user.update', 'grants.revoke', 'user.create']);
    expect((await get('/admin/audit', { target: String(first.jti) })).body.items).toHaveLength(1);
    expect(actions((await get('/admin/audit', { target: String(first.sid) })).body)).toEqual(['grants.revoke']);
    expect(second.sid).not.toBe(first.sid);
  });

  it('keeps the entries from since to until, both included, combined with the other filters', async () => {
    expect(actions((await get('/admin/audit', { since: start, until: start })).body)).toEqual(['user.create']);
    expect(actions((await get('/admin/audit', { since: start, until: middle })).body)).toEqual(['client.create', 'grants.revoke', 'user.create']);
    const justBefore = new Date(Date.parse(middle) - 1).toISOString();
    expect(actions((await get('/admin/audit', { since: start, until: justBefore })).body)).toEqual(['user.create']);
    expect(actions((await get('/admin/audit', { since: middle, target: gina.id })).body)).toEqual(['user.update', 'grants.revoke', 'grants.revoke']);
    expect(actions((await get('/admin/audit', { since: middle, action: 'client.create' })).body)).toEqual(['client.create']);
    // An offset other than Z names the same instant.
    const local = new Date(Date.parse(middle) + 3600_000).toISOString().replace(/\.\d{3}Z$/, '+01:00');
    expect(actions((await get('/admin/audit', { since: local, action: 'client.create' })).body)).toEqual(['client.create']);
  });

  it('refuses a time that is not an RFC 3339 date-time of a real day', async () => {
    for (const since of ['yesterday', '2026-02-30T00:00:00Z', '2026-01-01', '2026-01-01T24:00:00Z', '1969-12-31T23:59:59Z', '2026-01-01T00:00:00']) {
      const response = await get('/admin/audit', { since });
      expect({ since, status: response.status, error: response.body.error }).toEqual({ since, status: 400, error: 'invalid_request' });
      expect(response.body.error_description).toMatch(/^since must be a date-time/);
    }
    expect((await get('/admin/audit', { until: 'soon' })).body.error_description).toMatch(/^until/);
  });
});
