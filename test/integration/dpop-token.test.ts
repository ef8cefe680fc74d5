import { exportJWK, type JWK } from 'jose';
import type { Response } from 'supertest';
import { makeProof, proofKey, unsignedProof, type ProofKey } from '../helpers/dpop.js';
import { describeWithRedis, testRedisUrl } from '../helpers/redis.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { adminToken, expectOAuthError, introspector, tokenRequest, verifyAccessToken, type TestClientAuth } from '../helpers/token.js';

// DPoP (RFC 9449) at /token without server nonces: every §4.3 check for each grant, the binding of
// public clients' refresh tokens, reuse grace, dpop_bound_access_tokens clients, introspection.
// Real clients and DPOP_NONCE=true: dpop-nonce.test.ts.

let server: TestServer;
let htu: string;
let key: ProofKey;
let otherKey: ProofKey;
let privateJwk: JWK;
let appAuth: TestClientAuth;
let introspect: Awaited<ReturnType<typeof introspector>>;
const spaAuth: TestClientAuth = { none: 'spa' };
const alice = { username: 'alice', password: 'alice password' };
const passwordForm = { grant_type: 'password', ...alice };

beforeAll(async () => {
  server = await startTestServer({ env: { REFRESH_REUSE_GRACE: '60s' } });
  htu = `${server.baseUrl}/token`;
  [key, otherKey] = await Promise.all([proofKey(), proofKey()]);
  privateJwk = await exportJWK(key.privateKey);
  const app = await server.createClient({ id: 'app', grantTypes: ['password', 'refresh_token', 'client_credentials'], scopes: ['read'] });
  appAuth = { basic: ['app', app.clientSecret as string] };
  await server.createClient({ id: 'spa', public: true, grantTypes: ['password', 'refresh_token'], scopes: ['read'] });
  await server.createUser({ ...alice, scopes: ['read'] });
  introspect = await introspector(server);
});
afterAll(() => server.close());

/** POST /token with the DPoP header fields given (several for an array). */
function postWithProof(form: Record<string, string>, auth: TestClientAuth, proof?: string | string[]): Promise<Response> {
  const request = tokenRequest(form, auth);
  const call = server.http.post('/token').set(request.headers);
  // superagent sends an array as one header field per value, as Node does.
  if (proof !== undefined) void call.set('DPoP', proof as string);
  return call.send(request.body);
}

const proof = (by: ProofKey = key): Promise<string> => makeProof(by, { htu });

/** A public client's tokens bound to `by`. */
async function boundTokens(by: ProofKey = key): Promise<{ access_token: string; refresh_token: string; token_type: string }> {
  const response = await postWithProof(passwordForm, spaAuth, await proof(by));
  expect(response.status).toBe(200);
  return response.body as { access_token: string; refresh_token: string; token_type: string };
}

async function storedRows(): Promise<{ grants: number; refreshTokens: number }> {
  const count = async (table: string): Promise<number> => Number((await server.database.db(table).count<{ n: string | number }[]>({ n: '*' }))[0]?.n);
  return { grants: await count('grants'), refreshTokens: await count('refresh_tokens') };
}

describe('every RFC 9449 §4.3 check refuses a bad proof with invalid_dpop_proof naming the check, for each grant, and stores nothing', () => {
  const now = (): number => Math.floor(Date.now() / 1000);
  const claims = (): Record<string, unknown> => ({ jti: `jti-${Math.random()}`, htm: 'POST', htu, iat: now() });
  const CHECKS: [check: string, described: string, make: () => Promise<string | string[]>][] = [
    ['two DPoP header fields', 'exactly one DPoP header', async () => [await proof(), await proof()]],
    ['a value that is not a JWS', 'not a compact JWS', async () => 'not-a-dpop-proof'],
    ['typ other than dpop+jwt', '"typ" must be "dpop+jwt"', () => makeProof(key, { htu, header: { typ: 'JWT' } })],
    ['alg none', 'alg "none" is not allowed', async () => unsignedProof({ typ: 'dpop+jwt', alg: 'none', jwk: key.publicJwk }, claims())],
    ['a symmetric alg', 'asymmetric algorithm', async () => unsignedProof({ typ: 'dpop+jwt', alg: 'HS256', jwk: key.publicJwk }, claims(), 'c2lnbmF0dXJl')],
    ['an unsupported alg', 'algorithm is not supported', async () => unsignedProof({ typ: 'dpop+jwt', alg: 'ES256K', jwk: key.publicJwk }, claims(), 'c2ln')],
    ['no jwk', 'has no "jwk"', () => makeProof(key, { htu, header: { jwk: undefined } })],
    ['a private key in jwk', 'private key material', () => makeProof(key, { htu, header: { jwk: privateJwk } })],
    ['a signature by another key', 'signature does not verify', () => makeProof(key, { htu, signWith: otherKey.privateKey })],
    ['no jti', 'no "jti"', () => makeProof(key, { htu, claims: { jti: undefined } })],
    ['htm other than POST', '"htm" does not match', () => makeProof(key, { htu, htm: 'GET' })],
    ['htu of another URL', '"htu" does not match', () => makeProof(key, { htu: `${server.baseUrl}/introspect` })],
    ['an iat too long ago', 'too old', () => makeProof(key, { htu, iat: now() - 300 })],
    ['an iat in the future', '"iat" is in the future', () => makeProof(key, { htu, iat: now() + 300 })],
    [
      'a jti used before',
      '"jti" has been used before',
      async () => {
        const used = await proof();
        expect((await postWithProof({ grant_type: 'client_credentials' }, appAuth, used)).status).toBe(200);
        return used;
      },
    ],
  ];
  let boundRefreshToken: string;
  beforeAll(async () => {
    boundRefreshToken = (await boundTokens()).refresh_token;
  });
  const GRANTS: [grant: string, request: () => [Record<string, string>, TestClientAuth]][] = [
    ['password', () => [passwordForm, spaAuth]],
    ['refresh_token', () => [{ grant_type: 'refresh_token', refresh_token: boundRefreshToken }, spaAuth]],
    ['client_credentials', () => [{ grant_type: 'client_credentials' }, appAuth]],
  ];
  const table = GRANTS.flatMap(([grant, request]) => CHECKS.map(([check, described, make]) => [grant, check, described, request, make] as const));

  it.each(table)('%s with %s', async (_grant, _check, described, request, make) => {
    const bad = await make();
    const before = await storedRows();
    const response = await postWithProof(...request(), bad);
    const body = expectOAuthError(response, 400, 'invalid_dpop_proof');
    expect(body.error_description).toContain(described);
    for (const value of [bad].flat()) if (value.length > 20) expect(response.text).not.toContain(value);
    expect(await storedRows()).toEqual(before);
  });

  it('leaves the refresh token usable: it still refreshes once, with a good proof by its key', async () => {
    const response = await postWithProof({ grant_type: 'refresh_token', refresh_token: boundRefreshToken }, spaAuth, await proof());
    expect(response.status).toBe(200);
  });
});

describe('a replayed proof is answered as a replay, whatever else the request gets wrong, and counts nowhere', () => {
  let used: string;
  beforeAll(async () => {
    used = await proof();
    expect((await postWithProof({ grant_type: 'client_credentials' }, appAuth, used)).status).toBe(200);
  });

  it('with wrong passwords: invalid_dpop_proof, and more of them than LOCKOUT_THRESHOLD (5) leave the username unlocked', async () => {
    const bob = await server.createUser({ username: 'bob', scopes: ['read'] });
    for (let attempt = 0; attempt < 6; attempt++) {
      const refused = await postWithProof({ grant_type: 'password', username: bob.username, password: 'not the password' }, spaAuth, used);
      expect(expectOAuthError(refused, 400, 'invalid_dpop_proof').error_description).toContain('"jti" has been used before');
    }
    expect((await postWithProof({ grant_type: 'password', username: bob.username, password: bob.password }, spaAuth, await proof())).status).toBe(200);
  });

  it('with a scope the client may not have: invalid_dpop_proof, not invalid_scope', async () => {
    const refused = await postWithProof({ grant_type: 'client_credentials', scope: 'write' }, appAuth, used);
    expect(expectOAuthError(refused, 400, 'invalid_dpop_proof').error_description).toContain('"jti" has been used before');
    expectOAuthError(await postWithProof({ grant_type: 'client_credentials', scope: 'write' }, appAuth, await proof()), 400, 'invalid_scope');
  });
});

describe('a proof binds the access token (token_type DPoP, cnf.jkt) on every grant', () => {
  it('binds password, refresh and client_credentials tokens, and introspection says so', async () => {
    const tokens = await boundTokens();
    expect(tokens.token_type).toBe('DPoP');
    const refreshed = await postWithProof({ grant_type: 'refresh_token', refresh_token: tokens.refresh_token }, spaAuth, await proof());
    const client = await postWithProof({ grant_type: 'client_credentials' }, appAuth, await proof(otherKey));
    for (const [response, by] of [
      [refreshed, key],
      [client, otherKey],
    ] as const) {
      expect(response.body.token_type).toBe('DPoP');
      const { payload } = await verifyAccessToken(server, response.body.access_token as string);
      expect(payload.cnf).toEqual({ jkt: by.jkt });
      const introspected = await introspect(response.body.access_token as string);
      expect(introspected.body).toMatchObject({ active: true, token_type: 'DPoP', cnf: { jkt: by.jkt } });
    }
    // The refresh token of a bound grant shows its key too.
    expect((await introspect(refreshed.body.refresh_token as string)).body).toMatchObject({ active: true, cnf: { jkt: key.jkt } });
  });

  it('issues Bearer tokens without cnf when no proof is sent', async () => {
    const response = await postWithProof({ grant_type: 'client_credentials' }, appAuth);
    expect(response.body.token_type).toBe('Bearer');
    expect((await verifyAccessToken(server, response.body.access_token as string)).payload.cnf).toBeUndefined();
    expect((await introspect(response.body.access_token as string)).body).toMatchObject({ active: true, token_type: 'Bearer' });
    expect(response.headers['dpop-nonce']).toBeUndefined();
  });

  it('publishes dpop_signing_alg_values_supported', async () => {
    const metadata = await server.http.get('/.well-known/oauth-authorization-server');
    expect(metadata.body.dpop_signing_alg_values_supported).toEqual(expect.arrayContaining(['ES256', 'RS256', 'PS256', 'EdDSA']));
  });
});

describe("a public client's refresh token works only with a proof by its key, and a refusal leaves the grant alive", () => {
  const refreshWith = async (refreshToken: string, by?: ProofKey): Promise<Response> =>
    postWithProof({ grant_type: 'refresh_token', refresh_token: refreshToken }, spaAuth, by ? await proof(by) : undefined);

  it('refuses a refresh without a proof or with another key as invalid_grant; the right key then works', async () => {
    const tokens = await boundTokens();
    expect(expectOAuthError(await refreshWith(tokens.refresh_token), 400, 'invalid_grant').error_description).toContain('send a DPoP proof');
    expect(expectOAuthError(await refreshWith(tokens.refresh_token, otherKey), 400, 'invalid_grant').error_description).toContain('another DPoP key');
    const refreshed = await refreshWith(tokens.refresh_token, key);
    expect(refreshed.status).toBe(200);
    expect((await refreshWith(refreshed.body.refresh_token as string, key)).status).toBe(200);
  });

  it('answers a retry within REFRESH_REUSE_GRACE with the same successor only with a proof by the same key', async () => {
    const tokens = await boundTokens();
    const first = await refreshWith(tokens.refresh_token, key);
    expect(first.status).toBe(200);
    // A thief retrying the used token without the key: refused, and the grant is not ended by it.
    expectOAuthError(await refreshWith(tokens.refresh_token, otherKey), 400, 'invalid_grant');
    expectOAuthError(await refreshWith(tokens.refresh_token), 400, 'invalid_grant');
    const retry = await refreshWith(tokens.refresh_token, key);
    expect(retry.status).toBe(200);
    expect(retry.body.refresh_token).toBe(first.body.refresh_token);
    expect((await refreshWith(first.body.refresh_token as string, key)).status).toBe(200);
  });

  it("does not bind a confidential client's refresh token (RFC 9449 §5), only its access tokens", async () => {
    const tokens = await postWithProof(passwordForm, appAuth, await proof());
    expect(tokens.body.token_type).toBe('DPoP');
    const plain = await postWithProof({ grant_type: 'refresh_token', refresh_token: tokens.body.refresh_token as string }, appAuth);
    expect(plain.body.token_type).toBe('Bearer');
    const rebound = await postWithProof({ grant_type: 'refresh_token', refresh_token: plain.body.refresh_token as string }, appAuth, await proof(otherKey));
    expect((await verifyAccessToken(server, rebound.body.access_token as string)).payload.cnf).toEqual({ jkt: otherKey.jkt });
  });
});

describe('a client registered dpop_bound_access_tokens must send a proof; bound tokens at the admin API', () => {
  it('refuses its token request without one, and the admin API shows and changes the setting', async () => {
    const bound = await server.createClient({ id: 'bound', grantTypes: ['client_credentials'], scopes: ['read'], dpopBoundAccessTokens: true });
    const auth: TestClientAuth = { basic: ['bound', bound.clientSecret as string] };
    const refused = expectOAuthError(await postWithProof({ grant_type: 'client_credentials' }, auth), 400, 'invalid_dpop_proof');
    expect(refused.error_description).toContain('dpop_bound_access_tokens');
    expect((await postWithProof({ grant_type: 'client_credentials' }, auth, await proof())).body.token_type).toBe('DPoP');

    const admin = `Bearer ${await adminToken(server, ['admin:clients'])}`;
    expect((await server.http.get('/admin/clients/bound').set('Authorization', admin)).body.dpop_bound_access_tokens).toBe(true);
    const patched = await server.http.patch('/admin/clients/bound').set('Authorization', admin).send({ dpop_bound_access_tokens: false });
    expect(patched.body.dpop_bound_access_tokens).toBe(false);
    expect((await postWithProof({ grant_type: 'client_credentials' }, auth)).body.token_type).toBe('Bearer');
    const created = await server.http
      .post('/admin/clients')
      .set('Authorization', admin)
      .send({ client_id: 'bound-too', grant_types: ['client_credentials'], scopes: ['read'], dpop_bound_access_tokens: true });
    expect(created.body.dpop_bound_access_tokens).toBe(true);
    expectOAuthError(
      await server.http.patch('/admin/clients/bound').set('Authorization', admin).send({ dpop_bound_access_tokens: 'yes' }),
      400,
      'invalid_request',
    );
  });

  it('is refused at the admin API, which takes Bearer tokens only (RFC 9449 §7.2)', async () => {
    const admin = await server.createClient({ id: 'dpop-admin', grantTypes: ['client_credentials'], scopes: ['admin:clients'] });
    const auth: TestClientAuth = { basic: ['dpop-admin', admin.clientSecret as string] };
    const bound = await postWithProof({ grant_type: 'client_credentials' }, auth, await proof());
    expect(bound.body.token_type).toBe('DPoP');
    const refused = await server.http.get('/admin/clients').set('Authorization', `Bearer ${bound.body.access_token as string}`);
    expect(refused.status).toBe(401);
    expect(refused.headers['www-authenticate']).toContain('DPoP-bound');
    const plain = await postWithProof({ grant_type: 'client_credentials' }, auth);
    expect((await server.http.get('/admin/clients').set('Authorization', `Bearer ${plain.body.access_token as string}`)).status).toBe(200);
  });
});

describeWithRedis('with REDIS_URL the proofs’ jtis are claimed in Redis, shared by every instance', () => {
  const issuer = 'https://as.redis.example';
  const servers: TestServer[] = [];
  const auths: TestClientAuth[] = [];
  beforeAll(async () => {
    // Two instances, each on a database of its own: Redis is all they share.
    for (let instances = 0; instances < 2; instances++) {
      // The per-IP counters off: they would share Redis with other test files running meanwhile.
      const instance = await startTestServer({ env: { ISSUER: issuer, REDIS_URL: testRedisUrl!, RATE_LIMIT_PER_IP: '0' } });
      servers.push(instance);
      const app = await instance.createClient({ id: 'app', grantTypes: ['client_credentials'], scopes: ['read'] });
      auths.push({ basic: ['app', app.clientSecret as string] });
    }
  });
  afterAll(async () => {
    for (const instance of servers) await instance.close();
  });

  const post = (index: number, dpop: string): Promise<Response> => {
    const request = tokenRequest({ grant_type: 'client_credentials' }, auths[index]);
    return servers[index]!.http.post('/token').set(request.headers).set('DPoP', dpop).send(request.body);
  };

  it('refuses at the second instance a proof the first accepted, and writes nothing to replay_cache', async () => {
    const used = await makeProof(key, { htu: `${issuer}/token` });
    expect((await post(0, used)).body.token_type).toBe('DPoP');
    expect(expectOAuthError(await post(1, used), 400, 'invalid_dpop_proof').error_description).toContain('"jti" has been used before');
    expect(expectOAuthError(await post(0, used), 400, 'invalid_dpop_proof').error_description).toContain('"jti" has been used before');
    expect((await post(1, await makeProof(key, { htu: `${issuer}/token` }))).body.token_type).toBe('DPoP');
    for (const instance of servers) expect(Number((await instance.database.db('replay_cache').count<{ n: string }[]>({ n: '*' }))[0]?.n)).toBe(0);
  });
});
