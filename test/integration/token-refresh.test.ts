import { createHash } from 'node:crypto';
import type { Response } from 'supertest';
import { TestClock } from '../helpers/clock.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { expectOAuthError, postToken, verifyAccessToken, type TestClientAuth } from '../helpers/token.js';

const IDLE_TTL = 10;
const ABSOLUTE_TTL = 30;

let server: TestServer;
let clock: TestClock;
let app: TestClientAuth;
let other: TestClientAuth;

beforeAll(async () => {
  clock = new TestClock();
  server = await startTestServer({ clock, env: { REFRESH_TOKEN_IDLE_TTL: `${IDLE_TTL}s`, REFRESH_TOKEN_TTL: `${ABSOLUTE_TTL}s` } });
  const appSecret = (await server.createClient({ id: 'app', grantTypes: ['password', 'refresh_token'], scopes: ['read', 'write', 'admin'] }))
    .clientSecret as string;
  const otherSecret = (await server.createClient({ id: 'other', grantTypes: ['password', 'refresh_token'], scopes: ['read', 'write', 'admin'] }))
    .clientSecret as string;
  app = { basic: ['app', appSecret] };
  other = { post: ['other', otherSecret] };
  await server.createClient({ id: 'spa', public: true, grantTypes: ['password', 'refresh_token'] });
  await server.createUser({ username: 'alice', password: 'alice password', scopes: ['read', 'write'] });
});
afterAll(() => server.close());

async function login(
  scope?: string,
  auth: TestClientAuth = app,
  username = 'alice',
  password = 'alice password',
): Promise<{ refresh_token: string; access_token: string; scope: string }> {
  const form: Record<string, string> = { grant_type: 'password', username, password };
  if (scope !== undefined) form.scope = scope;
  const response = await postToken(server, form, auth);
  expect(response.status).toBe(200);
  return response.body;
}

function refresh(refreshToken: string, options: { scope?: string; auth?: TestClientAuth } = {}): Promise<Response> {
  const form: Record<string, string> = { grant_type: 'refresh_token', refresh_token: refreshToken };
  if (options.scope !== undefined) form.scope = options.scope;
  return postToken(server, form, options.auth ?? app);
}

describe('refresh tokens rotate on every use', () => {
  it('returns a new refresh token each time and refuses the one it replaced', async () => {
    const { refresh_token: first } = await login();
    const second = await refresh(first);
    expect(second.status).toBe(200);
    expect(second.headers['cache-control']).toBe('no-store');
    expect(second.body).toMatchObject({ token_type: 'Bearer', scope: 'read write' });
    expect(second.body.refresh_token).not.toBe(first);
    const third = await refresh(second.body.refresh_token);
    expect(third.status).toBe(200);
    expect(new Set([first, second.body.refresh_token, third.body.refresh_token]).size).toBe(3);
    expectOAuthError(await refresh(first), 400, 'invalid_grant');
  });

  it('issues access tokens for the same user and client', async () => {
    const { refresh_token, access_token } = await login();
    const original = await verifyAccessToken(server, access_token);
    const refreshed = await refresh(refresh_token);
    const { payload } = await verifyAccessToken(server, refreshed.body.access_token);
    expect(payload).toMatchObject({ sub: original.payload.sub, client_id: 'app', username: 'alice', scope: 'read write' });
    expect(payload.jti).not.toBe(original.payload.jti);
  });

  it('issues opaque tokens of at least 256 bits and stores only their hash', async () => {
    const { refresh_token } = await login();
    expect(refresh_token).toMatch(/^[A-Za-z0-9_-]{43,}$/);
    const db = server.database.db;
    expect(await db('refresh_tokens').where({ token_hash: refresh_token }).first()).toBeUndefined();
    const hash = createHash('sha256').update(refresh_token).digest('hex');
    expect(await db('refresh_tokens').where({ token_hash: hash }).first()).toBeDefined();
  });

  it('refuses an unknown refresh token with invalid_grant', async () => {
    expectOAuthError(await refresh('not-a-token-gatehouse-ever-issued'), 400, 'invalid_grant');
  });

  it('works for a public client presenting only its client_id', async () => {
    const { refresh_token } = await login(undefined, { none: 'spa' });
    const response = await refresh(refresh_token, { auth: { none: 'spa' } });
    expect(response.status).toBe(200);
    expect(typeof response.body.refresh_token).toBe('string');
  });
});

describe('reusing a used refresh token revokes the whole grant', () => {
  it('refuses the reused token and then its latest successor too', async () => {
    const { refresh_token: first } = await login();
    const second = (await refresh(first)).body.refresh_token as string;
    const third = (await refresh(second)).body.refresh_token as string;
    expectOAuthError(await refresh(first), 400, 'invalid_grant');
    expectOAuthError(await refresh(third), 400, 'invalid_grant');
  });

  it('leaves the user’s other grants alone', async () => {
    const { refresh_token: stolen } = await login();
    const { refresh_token: unrelated } = await login();
    await refresh(stolen);
    expectOAuthError(await refresh(stolen), 400, 'invalid_grant');
    expect((await refresh(unrelated)).status).toBe(200);
  });
});

describe('a refresh token is bound to the client it was issued to', () => {
  it('refuses another client’s token without consuming or revoking it', async () => {
    const { refresh_token } = await login();
    expectOAuthError(await refresh(refresh_token, { auth: other }), 400, 'invalid_grant');
    expectOAuthError(await refresh(refresh_token, { auth: { none: 'spa' } }), 400, 'invalid_grant');
    const own = await refresh(refresh_token);
    expect(own.status).toBe(200);
    expect((await refresh(own.body.refresh_token)).status).toBe(200);
  });
});

describe('refresh may narrow the scope but never widen it', () => {
  it('grants a narrower scope, and the full scope again on a later refresh without scope', async () => {
    const { refresh_token } = await login('read write');
    const narrowed = await refresh(refresh_token, { scope: 'read' });
    expect(narrowed.status).toBe(200);
    expect(narrowed.body.scope).toBe('read');
    expect((await verifyAccessToken(server, narrowed.body.access_token)).payload.scope).toBe('read');
    const full = await refresh(narrowed.body.refresh_token);
    expect(full.status).toBe(200);
    expect(full.body.scope).toBe('read write');
  });

  it('refuses a scope wider than the grant with invalid_scope, without using up the token', async () => {
    const { refresh_token } = await login('read');
    expectOAuthError(await refresh(refresh_token, { scope: 'read write' }), 400, 'invalid_scope');
    expectOAuthError(await refresh(refresh_token, { scope: 'admin' }), 400, 'invalid_scope');
    const retried = await refresh(refresh_token);
    expect(retried.status).toBe(200);
    expect(retried.body.scope).toBe('read');
  });
});

describe('refresh tokens expire after idle time and after the grant’s absolute lifetime', () => {
  it('refuses a token unused for longer than REFRESH_TOKEN_IDLE_TTL', async () => {
    const { refresh_token } = await login();
    clock.advance(IDLE_TTL + 1);
    expectOAuthError(await refresh(refresh_token), 400, 'invalid_grant');
  });

  it('starts the idle time again with every rotation', async () => {
    let { refresh_token } = await login();
    for (let i = 0; i < 2; i++) {
      clock.advance(IDLE_TTL - 2);
      const response = await refresh(refresh_token);
      expect(response.status).toBe(200);
      refresh_token = response.body.refresh_token;
    }
  });

  it('ends the grant after REFRESH_TOKEN_TTL even when it is used often', async () => {
    let { refresh_token } = await login();
    let elapsed = 0;
    while (elapsed + 8 < ABSOLUTE_TTL) {
      clock.advance(8);
      elapsed += 8;
      const response = await refresh(refresh_token);
      expect(response.status).toBe(200);
      refresh_token = response.body.refresh_token;
    }
    clock.advance(8);
    expectOAuthError(await refresh(refresh_token), 400, 'invalid_grant');
  });
});

describe('disabling or deleting the user ends its refresh grants', () => {
  it('refuses refresh once the user is disabled', async () => {
    const user = await server.createUser({ username: 'dave', scopes: ['read'] });
    const { refresh_token } = await login(undefined, app, 'dave', user.password);
    await server.database.db('users').where({ id: user.id }).update({ disabled: true });
    expectOAuthError(await refresh(refresh_token), 400, 'invalid_grant');
  });

  it('refuses refresh once the user is deleted', async () => {
    const user = await server.createUser({ username: 'erin', scopes: ['read'] });
    const { refresh_token } = await login(undefined, app, 'erin', user.password);
    await server.database.db('users').where({ id: user.id }).delete();
    expectOAuthError(await refresh(refresh_token), 400, 'invalid_grant');
  });

  it('no longer grants a scope the user has lost', async () => {
    const user = await server.createUser({ username: 'frank', scopes: ['read', 'write'] });
    const { refresh_token } = await login(undefined, app, 'frank', user.password);
    await server.database
      .db('users')
      .where({ id: user.id })
      .update({ scopes: ['read'] });
    const response = await refresh(refresh_token);
    expect(response.status).toBe(200);
    expect(response.body.scope).toBe('read');
  });
});

describe('concurrent refreshes of one token: exactly one wins and the grant is revoked', () => {
  it('answers one 200 and nine invalid_grant, and then refuses the winner’s token', async () => {
    const { refresh_token } = await login();
    const responses = await Promise.all(Array.from({ length: 10 }, () => refresh(refresh_token)));
    const statuses = responses.map((r) => r.status).sort();
    expect(statuses).toEqual([200, 400, 400, 400, 400, 400, 400, 400, 400, 400]);
    for (const response of responses.filter((r) => r.status !== 200)) expect(response.body.error).toBe('invalid_grant');
    const winner = responses.find((r) => r.status === 200) as Response;
    expectOAuthError(await refresh(winner.body.refresh_token), 400, 'invalid_grant');
  });
});
