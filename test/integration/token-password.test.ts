import { createLocalJWKSet, decodeProtectedHeader, jwtVerify } from 'jose';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { expectOAuthError, postToken, verifyAccessToken } from '../helpers/token.js';

let server: TestServer;
let secret: string;
let alice: { id: string; username: string; password: string };
let bob: { id: string; username: string; password: string };
const app = (): { basic: [string, string] } => ({ basic: ['app', secret] });

beforeAll(async () => {
  server = await startTestServer({ env: { ACCESS_TOKEN_TTL: '10m' } });
  secret = (await server.createClient({ id: 'app', grantTypes: ['password', 'refresh_token'], scopes: ['read', 'write', 'admin'] })).clientSecret as string;
  alice = await server.createUser({ username: 'alice', password: 'correct horse', scopes: ['read', 'write'], email: 'alice@example.com' });
  bob = await server.createUser({ username: 'bob', scopes: ['read'], name: 'Bob Builder' });
});
afterAll(() => server.close());

describe('password grant issues a verifiable RFC 9068 access token', () => {
  it('returns a token response that jose verifies against the JWKS', async () => {
    const response = await postToken(server, { grant_type: 'password', username: 'alice', password: 'correct horse', scope: 'read' }, app());
    expect(response.status).toBe(200);
    expect(response.headers['cache-control']).toBe('no-store');
    expect(response.headers['content-type']).toMatch(/^application\/json/);
    expect(response.body).toMatchObject({ token_type: 'Bearer', expires_in: 600, scope: 'read' });
    expect(typeof response.body.refresh_token).toBe('string');

    const jwks = await server.http.get('/.well-known/jwks.json');
    const { payload, protectedHeader } = await jwtVerify(response.body.access_token, createLocalJWKSet(JSON.parse(jwks.text)), {
      issuer: server.baseUrl,
      audience: server.baseUrl,
      typ: 'at+jwt',
      algorithms: ['RS256'],
    });
    expect(protectedHeader.kid).toBeDefined();
    expect(payload).toMatchObject({ client_id: 'app', scope: 'read', username: 'alice', email: 'alice@example.com' });
  });

  it('refuses a wrong password with invalid_grant', async () => {
    const response = await postToken(server, { grant_type: 'password', username: 'alice', password: 'wrong' }, app());
    expectOAuthError(response, 400, 'invalid_grant');
  });
});

describe('password grant scope is the requested scope limited by the user', () => {
  const grantScope = async (username: string, password: string, scope?: string) => {
    const form: Record<string, string> = { grant_type: 'password', username, password };
    if (scope !== undefined) form.scope = scope;
    return postToken(server, form, app());
  };

  it('grants every requested scope the user has', async () => {
    const response = await grantScope('alice', 'correct horse', 'write read');
    expect(response.status).toBe(200);
    expect(response.body.scope.split(' ').sort()).toEqual(['read', 'write']);
  });

  it('drops requested scopes the client may have but the user has not', async () => {
    const response = await grantScope('alice', 'correct horse', 'read admin');
    expect(response.status).toBe(200);
    expect(response.body.scope).toBe('read');
    const { payload } = await verifyAccessToken(server, response.body.access_token);
    expect(payload.scope).toBe('read');
  });

  it('refuses a scope the client may not have with invalid_scope', async () => {
    expectOAuthError(await grantScope('alice', 'correct horse', 'read delete'), 400, 'invalid_scope');
  });

  it('refuses with invalid_scope when nothing requested can be granted', async () => {
    expectOAuthError(await grantScope('alice', 'correct horse', 'admin'), 400, 'invalid_scope');
  });

  it('refuses a malformed scope with invalid_scope', async () => {
    expectOAuthError(await grantScope('alice', 'correct horse', 'read "quoted"'), 400, 'invalid_scope');
  });

  it('grants the client scopes the user has when no scope is requested, and says so', async () => {
    const forAlice = await grantScope('alice', 'correct horse');
    expect(forAlice.status).toBe(200);
    expect(forAlice.body.scope.split(' ').sort()).toEqual(['read', 'write']);
    const forBob = await grantScope('bob', bob.password);
    expect(forBob.status).toBe(200);
    expect(forBob.body.scope).toBe('read');
  });

  it('treats an empty scope parameter as no scope', async () => {
    const response = await grantScope('bob', bob.password, '');
    expect(response.status).toBe(200);
    expect(response.body.scope).toBe('read');
  });
});

describe('password grant refuses bad credentials without telling which part was wrong', () => {
  it('answers an unknown user exactly like a wrong password', async () => {
    const unknown = await postToken(server, { grant_type: 'password', username: 'nobody', password: 'correct horse' }, app());
    const wrong = await postToken(server, { grant_type: 'password', username: 'alice', password: 'correct horsE' }, app());
    expectOAuthError(unknown, 400, 'invalid_grant');
    expect(unknown.body).toEqual(wrong.body);
  });

  it('refuses a disabled user with the right password the same way', async () => {
    const carol = await server.createUser({ username: 'carol' });
    const before = await postToken(server, { grant_type: 'password', username: 'carol', password: carol.password }, app());
    expect(before.status).toBe(200);
    await server.database.db('users').where({ id: carol.id }).update({ disabled: true });
    const after = await postToken(server, { grant_type: 'password', username: 'carol', password: carol.password }, app());
    expectOAuthError(after, 400, 'invalid_grant');
    const wrong = await postToken(server, { grant_type: 'password', username: 'alice', password: 'nope' }, app());
    expect(after.body).toEqual(wrong.body);
  });

  it('requires username and password', async () => {
    expectOAuthError(await postToken(server, { grant_type: 'password', username: 'alice' }, app()), 400, 'invalid_request');
    expectOAuthError(await postToken(server, { grant_type: 'password', password: 'correct horse' }, app()), 400, 'invalid_request');
  });
});

describe('a client uses the password grant only as registered', () => {
  it('lets a public client use it with its client_id alone', async () => {
    await server.createClient({ id: 'spa', public: true, grantTypes: ['password', 'refresh_token'] });
    const response = await postToken(server, { grant_type: 'password', username: 'alice', password: 'correct horse' }, { none: 'spa' });
    expect(response.status).toBe(200);
    expect(typeof response.body.refresh_token).toBe('string');
    const { payload } = await verifyAccessToken(server, response.body.access_token);
    expect(payload).toMatchObject({ client_id: 'spa', sub: alice.id });
  });

  it('refuses a client without the password grant type with unauthorized_client', async () => {
    const machine = await server.createClient({ id: 'machine', grantTypes: ['client_credentials'] });
    const response = await postToken(
      server,
      { grant_type: 'password', username: 'alice', password: 'correct horse' },
      { basic: ['machine', machine.clientSecret as string] },
    );
    expectOAuthError(response, 400, 'unauthorized_client');
  });

  it('issues no refresh token to a client without the refresh_token grant type', async () => {
    const once = await server.createClient({ id: 'once', grantTypes: ['password'] });
    const response = await postToken(
      server,
      { grant_type: 'password', username: 'alice', password: 'correct horse' },
      { basic: ['once', once.clientSecret as string] },
    );
    expect(response.status).toBe(200);
    expect(response.body).not.toHaveProperty('refresh_token');
    expect(response.body).toMatchObject({ token_type: 'Bearer', expires_in: 600 });
  });
});

describe('password grant access tokens carry the RFC 9068 claims and header', () => {
  it('carries iss, sub, aud, exp, iat, jti, client_id, scope and the user claims that are set', async () => {
    const response = await postToken(server, { grant_type: 'password', username: 'alice', password: 'correct horse', scope: 'read write' }, app());
    expect(response.status).toBe(200);
    const { payload, protectedHeader } = await verifyAccessToken(server, response.body.access_token);
    expect(protectedHeader).toMatchObject({ alg: 'RS256', typ: 'at+jwt' });
    expect(payload).toMatchObject({
      iss: server.baseUrl,
      sub: alice.id,
      aud: server.baseUrl,
      client_id: 'app',
      scope: 'read write',
      username: 'alice',
      email: 'alice@example.com',
    });
    expect(payload).not.toHaveProperty('name');
    expect((payload.exp as number) - (payload.iat as number)).toBe(600);
    expect(typeof payload.jti).toBe('string');
    expect((payload.jti as string).length).toBeGreaterThanOrEqual(16);
  });

  it('carries name but no email for a user with only a name', async () => {
    const response = await postToken(server, { grant_type: 'password', username: 'bob', password: bob.password }, app());
    const { payload } = await verifyAccessToken(server, response.body.access_token);
    expect(payload).toMatchObject({ sub: bob.id, username: 'bob', name: 'Bob Builder' });
    expect(payload).not.toHaveProperty('email');
  });

  it('gives every token its own jti', async () => {
    const form = { grant_type: 'password', username: 'bob', password: bob.password };
    const [first, second] = await Promise.all([postToken(server, form, app()), postToken(server, form, app())]);
    const [a, b] = await Promise.all([verifyAccessToken(server, first.body.access_token), verifyAccessToken(server, second.body.access_token)]);
    expect(a.payload.jti).not.toBe(b.payload.jti);
  });

  it('signs with a key whose kid the JWKS publishes', async () => {
    const response = await postToken(server, { grant_type: 'password', username: 'bob', password: bob.password }, app());
    const { kid } = decodeProtectedHeader(response.body.access_token);
    const jwks = await server.http.get('/.well-known/jwks.json');
    expect(JSON.parse(jwks.text).keys.map((k: { kid: string }) => k.kid)).toContain(kid);
  });

  it('uses the client audience as aud when the client has one', async () => {
    const api = await server.createClient({ id: 'api-app', grantTypes: ['password'], audience: 'https://api.example.com' });
    const response = await postToken(
      server,
      { grant_type: 'password', username: 'alice', password: 'correct horse' },
      { basic: ['api-app', api.clientSecret as string] },
    );
    expect(response.status).toBe(200);
    const { payload } = await verifyAccessToken(server, response.body.access_token, 'https://api.example.com');
    expect(payload.aud).toBe('https://api.example.com');
    await expect(verifyAccessToken(server, response.body.access_token, server.baseUrl)).rejects.toMatchObject({ code: 'ERR_JWT_CLAIM_VALIDATION_FAILED' });
  });
});
