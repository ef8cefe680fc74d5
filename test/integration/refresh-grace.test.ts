import { startTestServer, type TestServer } from '../helpers/server.js';
import { TestClock } from '../helpers/clock.js';
import { introspector, passwordTokens, refresh } from '../helpers/token.js';

type Client = { clientId: string; clientSecret: string | null };

describe('REFRESH_REUSE_GRACE: a retry within the window gets the same successor', () => {
  let server: TestServer;
  let app: Client;
  let user: { username: string; password: string };
  const clock = new TestClock();

  beforeAll(async () => {
    server = await startTestServer({ clock, env: { REFRESH_REUSE_GRACE: '10s' } });
    app = await server.createClient({ id: 'app', grantTypes: ['password', 'refresh_token'] });
    user = await server.createUser({ username: 'alice' });
  });
  afterAll(() => server.close());

  it('returns the same refresh token (and a fresh access token) to a retry inside the window', async () => {
    const first = await passwordTokens(server, app, user);
    const original = await refresh(server, app, first.refresh_token as string);
    clock.advance(5);
    const retried = await refresh(server, app, first.refresh_token as string);
    expect(retried.status).toBe(200);
    expect(retried.body.refresh_token).toBe(original.body.refresh_token);
    expect(retried.body.access_token).not.toBe(original.body.access_token);
    // The family lives on: the successor rotates normally.
    expect((await refresh(server, app, original.body.refresh_token)).status).toBe(200);
  });

  it('treats a retry after the window as reuse and revokes the family', async () => {
    const first = await passwordTokens(server, app, user);
    const original = await refresh(server, app, first.refresh_token as string);
    clock.advance(11);
    const late = await refresh(server, app, first.refresh_token as string);
    expect(late.body.error).toBe('invalid_grant');
    expect((await refresh(server, app, original.body.refresh_token)).body.error).toBe('invalid_grant');
  });

  it('treats a retry as reuse once the successor itself has been used', async () => {
    const first = await passwordTokens(server, app, user);
    const second = await refresh(server, app, first.refresh_token as string);
    const third = await refresh(server, app, second.body.refresh_token);
    expect(third.status).toBe(200);
    expect((await refresh(server, app, first.refresh_token as string)).body.error).toBe('invalid_grant');
    expect((await refresh(server, app, third.body.refresh_token)).body.error).toBe('invalid_grant');
  });

  it('answers 20 parallel refreshes of one token consistently: one successor, no duplicated family members', async () => {
    const first = await passwordTokens(server, app, user);
    const responses = await Promise.all(Array.from({ length: 20 }, () => refresh(server, app, first.refresh_token as string)));
    expect(responses.map((r) => r.status)).toEqual(Array(20).fill(200));
    expect(new Set(responses.map((r) => r.body.refresh_token)).size).toBe(1);
    const ask = await introspector(server);
    expect((await ask(first.refresh_token as string)).body).toEqual({ active: false });
    expect((await ask(responses[0]?.body.refresh_token)).body.active).toBe(true);
    const unused = await server.database.db('refresh_tokens').whereNull('used_at').select('grant_id');
    const unusedPerGrant = new Map<string, number>();
    for (const row of unused as { grant_id: string }[]) unusedPerGrant.set(row.grant_id, (unusedPerGrant.get(row.grant_id) ?? 0) + 1);
    expect(Math.max(...unusedPerGrant.values())).toBe(1);
  });
});

describe('without REFRESH_REUSE_GRACE, 20 parallel refreshes of one token', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(() => server.close());

  it('give exactly one 200; the rest are reuse, which revokes the family', async () => {
    const app = await server.createClient({ id: 'app', grantTypes: ['password', 'refresh_token'] });
    const user = await server.createUser({ username: 'alice' });
    const first = await passwordTokens(server, app, user);
    const responses = await Promise.all(Array.from({ length: 20 }, () => refresh(server, app, first.refresh_token as string)));
    const winners = responses.filter((r) => r.status === 200);
    expect(winners).toHaveLength(1);
    expect(responses.filter((r) => r.body.error === 'invalid_grant')).toHaveLength(19);
    expect((await refresh(server, app, winners[0]?.body.refresh_token)).body.error).toBe('invalid_grant');
    const successors = await server.database.db('refresh_tokens').whereNotNull('parent_hash').count<{ count: string | number }[]>('* as count');
    expect(Number(successors[0]?.count)).toBe(1);
  });
});
