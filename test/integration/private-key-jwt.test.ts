import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK } from 'jose';
import * as oauth from 'oauth4webapi';
import * as client from 'openid-client';
import { CLIENT_ASSERTION_TYPE } from '../../src/client-assertions/verify-client-assertion.js';
import type { Clock } from '../../src/lib/clock.js';
import { itWithPostgres } from '../helpers/database.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { adminToken, clientCredentialsToken, expectOAuthError } from '../helpers/token.js';

interface ClientKey {
  kid: string;
  alg: string;
  privateKey: CryptoKey;
  publicJwk: JWK;
}
async function clientKey(kid: string, alg = 'ES256'): Promise<ClientKey> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  return { kid, alg, privateKey, publicJwk: { ...(await exportJWK(publicKey)), kid, use: 'sig', alg } };
}

let server: TestServer;
/** Real time (the real clients sign with it), moved ahead by hand past the jwks_uri refetch interval. */
let ahead = 0;
const clock: Clock = { now: () => new Date(Date.now() + ahead * 1000) };
let signerKey: ClientKey;
let otherKey: ClientKey;
let jwksServer: Server;
let published: ClientKey[] = [];
let jwksUri: string;
let jwksRequests = 0;

beforeAll(async () => {
  jwksServer = createServer((_request, response) => {
    jwksRequests++;
    response.setHeader('content-type', 'application/jwk-set+json');
    response.end(JSON.stringify({ keys: published.map((key) => key.publicJwk) }));
  });
  await new Promise<void>((resolve) => jwksServer.listen(0, '127.0.0.1', resolve));
  jwksUri = `http://127.0.0.1:${(jwksServer.address() as AddressInfo).port}/jwks.json`;

  server = await startTestServer({ clock });
  [signerKey, otherKey] = await Promise.all([clientKey('signer-1'), clientKey('other-1', 'RS256')]);
  await keyClient(server, 'signer', { jwks: { keys: [signerKey.publicJwk] } });
  await keyClient(server, 'other', { jwks: { keys: [otherKey.publicJwk] } });
  await keyClient(server, 'publisher', { jwksUri });
});
afterAll(async () => {
  await server.close();
  jwksServer.closeAllConnections();
  await new Promise((resolve) => jwksServer.close(resolve));
});

/** Registers a client_credentials client (scope read) that authenticates with private_key_jwt, with the given keys. */
function keyClient(target: TestServer, id: string, keys: { jwks: { keys: JWK[] } } | { jwksUri: string }) {
  return target.createClient({ id, grantTypes: ['client_credentials'], scopes: ['read'], authMethod: 'private_key_jwt', ...keys });
}

let jtiCounter = 0;
/** A client assertion: good by default; `claims` and `header` override (undefined removes). */
async function assertion(
  key: ClientKey,
  options: { clientId?: string; claims?: Record<string, unknown>; header?: Record<string, unknown>; alg?: string } = {},
): Promise<string> {
  const clientId = options.clientId ?? 'signer';
  const now = Math.floor(clock.now().getTime() / 1000);
  const claims: Record<string, unknown> = {
    iss: clientId,
    sub: clientId,
    aud: server.baseUrl,
    iat: now,
    exp: now + 60,
    jti: `jti-${++jtiCounter}`,
    ...options.claims,
  };
  for (const [name, value] of Object.entries(claims)) if (value === undefined) delete claims[name];
  return new SignJWT(claims).setProtectedHeader({ alg: options.alg ?? key.alg, kid: key.kid, ...options.header }).sign(key.privateKey);
}

function unsigned(claims: Record<string, unknown>): string {
  const part = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
  return `${part({ alg: 'none' })}.${part(claims)}.`;
}

async function hs256(clientId: string): Promise<string> {
  const now = Math.floor(clock.now().getTime() / 1000);
  return new SignJWT({ iss: clientId, sub: clientId, aud: server.baseUrl, exp: now + 60, jti: `hs-${++jtiCounter}` })
    .setProtectedHeader({ alg: 'HS256' })
    .sign(new TextEncoder().encode('a shared secret that is long enough for HS256'));
}

function postWithAssertion(path: string, form: Record<string, string>, clientAssertion: string, target: TestServer = server) {
  return target.http
    .post(path)
    .type('form')
    .send({ ...form, client_assertion_type: CLIENT_ASSERTION_TYPE, client_assertion: clientAssertion });
}

describe('private_key_jwt with real clients', () => {
  it('openid-client (v6) PrivateKeyJwt gets a token, introspects it and revokes it', async () => {
    const config = await client.discovery(
      new URL(server.baseUrl),
      'signer',
      undefined,
      client.PrivateKeyJwt({ key: signerKey.privateKey, kid: signerKey.kid }),
      {
        execute: [client.allowInsecureRequests],
        algorithm: 'oauth2',
      },
    );
    const tokens = await client.clientCredentialsGrant(config, { scope: 'read' });
    expect(tokens.scope).toBe('read');
    expect(await client.tokenIntrospection(config, tokens.access_token)).toMatchObject({ active: true, client_id: 'signer' });
    await client.tokenRevocation(config, tokens.access_token);
    expect(await client.tokenIntrospection(config, tokens.access_token)).toEqual({ active: false });
  });

  it('openid-client and oauth4webapi with an Ed25519 key (they sign with alg Ed25519, RFC 9864), registered for EdDSA or Ed25519', async () => {
    const insecure = { [oauth.allowInsecureRequests]: true };
    const as = await oauth.processDiscoveryResponse(
      new URL(server.baseUrl),
      await oauth.discoveryRequest(new URL(server.baseUrl), { algorithm: 'oauth2', ...insecure }),
    );
    for (const registeredAlg of ['EdDSA', 'Ed25519']) {
      const key = await clientKey(`edwards-${registeredAlg}`, 'Ed25519');
      const id = `edwards-${registeredAlg.toLowerCase()}`;
      await keyClient(server, id, { jwks: { keys: [{ ...key.publicJwk, alg: registeredAlg }] } });
      const config = await client.discovery(new URL(server.baseUrl), id, undefined, client.PrivateKeyJwt({ key: key.privateKey, kid: key.kid }), {
        execute: [client.allowInsecureRequests],
        algorithm: 'oauth2',
      });
      expect((await client.clientCredentialsGrant(config, { scope: 'read' })).scope).toBe('read');
      const response = await oauth.clientCredentialsGrantRequest(
        as,
        { client_id: id },
        oauth.PrivateKeyJwt({ key: key.privateKey, kid: key.kid }),
        { scope: 'read' },
        insecure,
      );
      expect((await oauth.processClientCredentialsResponse(as, { client_id: id }, response)).scope).toBe('read');
    }
  });

  it('oauth4webapi PrivateKeyJwt at /token, /introspect and /revoke', async () => {
    const as = await oauth.processDiscoveryResponse(
      new URL(server.baseUrl),
      await oauth.discoveryRequest(new URL(server.baseUrl), { algorithm: 'oauth2', [oauth.allowInsecureRequests]: true }),
    );
    expect(as.token_endpoint_auth_methods_supported).toContain('private_key_jwt');
    expect(as.introspection_endpoint_auth_methods_supported).toContain('private_key_jwt');
    expect(as.token_endpoint_auth_signing_alg_values_supported).toEqual(['RS256', 'PS256', 'ES256', 'EdDSA', 'Ed25519']);
    const other = { client_id: 'other' };
    const authentication = oauth.PrivateKeyJwt({ key: otherKey.privateKey, kid: otherKey.kid });
    const insecure = { [oauth.allowInsecureRequests]: true };
    const tokens = await oauth.processClientCredentialsResponse(
      as,
      other,
      await oauth.clientCredentialsGrantRequest(as, other, authentication, { scope: 'read' }, insecure),
    );
    const introspected = await oauth.processIntrospectionResponse(
      as,
      other,
      await oauth.introspectionRequest(as, other, authentication, tokens.access_token, insecure),
    );
    expect(introspected).toMatchObject({ active: true, client_id: 'other' });
    await oauth.processRevocationResponse(await oauth.revocationRequest(as, other, authentication, tokens.access_token, insecure));
    const after = await oauth.processIntrospectionResponse(
      as,
      other,
      await oauth.introspectionRequest(as, other, authentication, tokens.access_token, insecure),
    );
    expect(after.active).toBe(false);
  });
});

describe('every bad assertion is 401 invalid_client, like an unknown client', () => {
  const cases: [string, () => Promise<string>][] = [
    ['a good one, for contrast, is accepted', () => assertion(signerKey)],
    ['an alg outside the list (ES384), under the client’s kid', async () => assertion({ ...(await clientKey('signer-1', 'ES384')) })],
    ['HS256 (a MAC, not a key signature)', () => hs256('signer')],
    ['alg none', async () => unsigned({ iss: 'signer', sub: 'signer', aud: server.baseUrl, exp: Math.floor(Date.now() / 1000) + 60, jti: 'none-1' })],
    ['iss another client', () => assertion(signerKey, { claims: { iss: 'other' } })],
    ['sub another client', () => assertion(signerKey, { claims: { sub: 'other' } })],
    ['aud another server', () => assertion(signerKey, { claims: { aud: 'https://elsewhere.example' } })],
    ['no exp', () => assertion(signerKey, { claims: { exp: undefined } })],
    ['exp too far ahead (an hour)', () => assertion(signerKey, { claims: { exp: Math.floor(clock.now().getTime() / 1000) + 3600 } })],
    ['expired', () => assertion(signerKey, { claims: { exp: Math.floor(clock.now().getTime() / 1000) - 60 } })],
    ['no jti', () => assertion(signerKey, { claims: { jti: undefined } })],
    ['an unknown kid', () => assertion(signerKey, { header: { kid: 'no-such-kid' } })],
    ['signed by another client’s key', () => assertion(otherKey, { clientId: 'signer' })],
    ['a client registered with a secret', () => assertion(signerKey, { clientId: 'secret-client' })],
    ['an unknown client', () => assertion(signerKey, { clientId: 'nobody' })],
    ['not a JWT', async () => 'not.a.jwt'],
  ];

  beforeAll(async () => {
    await server.createClient({ id: 'secret-client', grantTypes: ['client_credentials'], scopes: ['read'] });
  });

  it.each(cases)('%s', async (name, make) => {
    const response = await postWithAssertion('/token', { grant_type: 'client_credentials' }, await make());
    if (name.startsWith('a good one')) {
      expect(response.status).toBe(200);
      return;
    }
    const body = expectOAuthError(response, 401, 'invalid_client');
    expect(body.error_description).toBe('client authentication failed');
  });

  it('a replayed assertion is refused, at /token and at /introspect', async () => {
    const once = await assertion(signerKey);
    expect((await postWithAssertion('/token', { grant_type: 'client_credentials' }, once)).status).toBe(200);
    expectOAuthError(await postWithAssertion('/token', { grant_type: 'client_credentials' }, once), 401, 'invalid_client');
    expectOAuthError(await postWithAssertion('/introspect', { token: 'x' }, once), 401, 'invalid_client');
  });

  it('a private_key_jwt client cannot authenticate with client_id alone, and a wrong assertion type fails', async () => {
    expectOAuthError(await server.http.post('/token').type('form').send({ grant_type: 'client_credentials', client_id: 'signer' }), 401, 'invalid_client');
    const response = await server.http
      .post('/token')
      .type('form')
      .send({ grant_type: 'client_credentials', client_assertion_type: 'urn:other', client_assertion: await assertion(signerKey) });
    expectOAuthError(response, 401, 'invalid_client');
  });

  it('client_id may come along but must be the assertion’s; with a secret too it is invalid_request', async () => {
    expect((await postWithAssertion('/token', { grant_type: 'client_credentials', client_id: 'signer' }, await assertion(signerKey))).status).toBe(200);
    expectOAuthError(
      await postWithAssertion('/token', { grant_type: 'client_credentials', client_id: 'other' }, await assertion(signerKey)),
      401,
      'invalid_client',
    );
    const mixed = await server.http
      .post('/token')
      .auth('secret-client', 'x'.repeat(40))
      .type('form')
      .send({ grant_type: 'client_credentials', client_assertion_type: CLIENT_ASSERTION_TYPE, client_assertion: await assertion(signerKey) });
    expectOAuthError(mixed, 400, 'invalid_request');
  });
});

describe('a client publishing its keys at a jwks_uri', () => {
  it('is fetched once, cached, and fetched again when a new kid arrives (key rollover)', async () => {
    const [first, second] = await Promise.all([clientKey('roll-1'), clientKey('roll-2')]);
    published = [first];
    jwksRequests = 0;
    const use = async (key: ClientKey) => postWithAssertion('/token', { grant_type: 'client_credentials' }, await assertion(key, { clientId: 'publisher' }));
    expect((await use(first)).status).toBe(200);
    expect((await use(first)).status).toBe(200);
    expect(jwksRequests).toBe(1);

    // The client rolls over: publishes the new key and signs with it.
    published = [first, second];
    ahead += 31;
    expect((await use(second)).status).toBe(200);
    expect(jwksRequests).toBe(2);
    // A kid nobody publishes does not fetch again within the refetch interval.
    expectOAuthError(
      await postWithAssertion('/token', { grant_type: 'client_credentials' }, await assertion(signerKey, { clientId: 'publisher' })),
      401,
      'invalid_client',
    );
    expect(jwksRequests).toBe(2);
  });
});

describe('CLIENT_ASSERTION_MAX_LIFETIME', () => {
  it('bounds how far ahead exp may be', async () => {
    const shared = { ...server.database, close: async () => undefined };
    const strict = await startTestServer({ database: shared, clock, env: { CLIENT_ASSERTION_MAX_LIFETIME: '30s' } });
    try {
      const now = Math.floor(clock.now().getTime() / 1000);
      const make = (seconds: number) => assertion(signerKey, { claims: { aud: strict.baseUrl, exp: now + seconds } });
      expectOAuthError(await postWithAssertion('/token', { grant_type: 'client_credentials' }, await make(60), strict), 401, 'invalid_client');
      expect((await postWithAssertion('/token', { grant_type: 'client_credentials' }, await make(20), strict)).status).toBe(200);
    } finally {
      await strict.close();
    }
  });
});

describe('registered keys change at once', () => {
  it('after PATCH jwks the old key is refused and the new one accepted, though the client just authenticated', async () => {
    const [before, after] = await Promise.all([clientKey('swap-1'), clientKey('swap-2')]);
    await keyClient(server, 'swapper', { jwks: { keys: [before.publicJwk] } });
    const use = async (key: ClientKey) => postWithAssertion('/token', { grant_type: 'client_credentials' }, await assertion(key, { clientId: 'swapper' }));
    expect((await use(before)).status).toBe(200);
    const admin = await adminToken(server, ['admin:clients']);
    const patched = await server.http
      .patch('/admin/clients/swapper')
      .auth(admin, { type: 'bearer' })
      .send({ jwks: { keys: [after.publicJwk] } });
    expect(patched.status).toBe(200);
    expect(patched.body.jwks.keys[0].kid).toBe('swap-2');
    expectOAuthError(await use(before), 401, 'invalid_client');
    expect((await use(after)).status).toBe(200);
  });
});

describe('the jti is accepted once across instances', () => {
  itWithPostgres('a second instance on the same PostgreSQL database refuses an assertion the first accepted', async () => {
    // Two instances with their own caches on this file's database (which the main server closes).
    const shared = { ...server.database, close: async () => undefined };
    const env = { DATABASE_URL: server.database.url as string };
    const [first, second] = await Promise.all([startTestServer({ database: shared, env, clock }), startTestServer({ database: shared, env, clock })]);
    try {
      const once = await assertion(signerKey, { claims: { aud: [first.baseUrl, second.baseUrl] } });
      expect((await postWithAssertion('/token', { grant_type: 'client_credentials' }, once, first)).status).toBe(200);
      expectOAuthError(await postWithAssertion('/token', { grant_type: 'client_credentials' }, once, second), 401, 'invalid_client');
    } finally {
      await Promise.all([first.close(), second.close()]);
    }
  });
});

describe('a replayed assertion changes nothing, though the grant starts while its jti is being claimed', () => {
  const keyed = (): Promise<string> => assertion(signerKey, { clientId: 'keyed-app' });
  beforeAll(async () => {
    await server.createClient({
      id: 'keyed-app',
      grantTypes: ['password', 'refresh_token'],
      scopes: ['read'],
      authMethod: 'private_key_jwt',
      jwks: { keys: [signerKey.publicJwk] },
    });
  });

  it('refresh_token: invalid_client, and the refresh token presented is neither rotated nor taken for reuse', async () => {
    const carol = await server.createUser({ username: 'carol', scopes: ['read'] });
    const login = await postWithAssertion('/token', { grant_type: 'password', username: carol.username, password: carol.password }, await keyed());
    expect(login.status).toBe(200);
    const once = await keyed();
    const rotated = await postWithAssertion('/token', { grant_type: 'refresh_token', refresh_token: login.body.refresh_token as string }, once);
    expect(rotated.status).toBe(200);
    const successor = rotated.body.refresh_token as string;
    expectOAuthError(await postWithAssertion('/token', { grant_type: 'refresh_token', refresh_token: successor }, once), 401, 'invalid_client');
    // Had the replay rotated it, this would be reuse (invalid_grant, the grant revoked).
    expect((await postWithAssertion('/token', { grant_type: 'refresh_token', refresh_token: successor }, await keyed())).status).toBe(200);
  });

  it('password: invalid_client however wrong the password, and the login lock counts none of it', async () => {
    const dave = await server.createUser({ username: 'dave', scopes: ['read'] });
    const once = await keyed();
    expect((await postWithAssertion('/token', { grant_type: 'password', username: dave.username, password: dave.password }, once)).status).toBe(200);
    // More wrong passwords than LOCKOUT_THRESHOLD (5) from this address would lock dave here.
    for (let attempt = 0; attempt < 6; attempt++) {
      expectOAuthError(
        await postWithAssertion('/token', { grant_type: 'password', username: dave.username, password: 'not the password' }, once),
        401,
        'invalid_client',
      );
    }
    expect((await postWithAssertion('/token', { grant_type: 'password', username: dave.username, password: dave.password }, await keyed())).status).toBe(200);
  });

  it('a request wrong in another way too (a scope the client may not have, a grant type it may not use): still invalid_client', async () => {
    const once = await assertion(signerKey);
    expect((await postWithAssertion('/token', { grant_type: 'client_credentials' }, once)).status).toBe(200);
    expectOAuthError(await postWithAssertion('/token', { grant_type: 'client_credentials', scope: 'write' }, once), 401, 'invalid_client');
    // Refused by the endpoint before the grant starts: the client authentication still answers the replay.
    expectOAuthError(await postWithAssertion('/token', { grant_type: 'password', username: 'u', password: 'p' }, once), 401, 'invalid_client');
  });
});

describe('failed client authentications per IP are capped for assertions too', () => {
  it('past the budget a refused assertion is 429; a valid one is still accepted (a signature is no guess)', async () => {
    // RATE_LIMIT_PER_IP 50 → 10 failed client authentications a minute from one address.
    const capped = await startTestServer({ env: { RATE_LIMIT_PER_IP: '50' }, clock });
    try {
      await keyClient(capped, 'signer', { jwks: { keys: [signerKey.publicJwk] } });
      const toCapped = { aud: capped.baseUrl };
      for (let i = 0; i < 10; i++) {
        const wrongKey = await assertion(otherKey, { claims: toCapped });
        expectOAuthError(await postWithAssertion('/token', { grant_type: 'client_credentials' }, wrongKey, capped), 401, 'invalid_client');
      }
      const refused = await postWithAssertion('/token', { grant_type: 'client_credentials' }, await assertion(otherKey, { claims: toCapped }), capped);
      expectOAuthError(refused, 429, 'too_many_requests');
      expect(refused.headers['retry-after']).toBeDefined();
      // The client's own key: accepted without asking the address's count first.
      const accepted = await postWithAssertion('/token', { grant_type: 'client_credentials' }, await assertion(signerKey, { claims: toCapped }), capped);
      expect(accepted.status).toBe(200);
      // A wrong secret from the same address is still refused as before.
      await capped.createClient({ id: 'secret-app', grantTypes: ['client_credentials'], scopes: ['read'], secret: 's'.repeat(40) });
      const wrongSecret = await capped.http.post('/token').auth('secret-app', 'w'.repeat(40)).type('form').send({ grant_type: 'client_credentials' });
      expect(wrongSecret.status).toBe(429);
    } finally {
      await capped.close();
    }
  });
});

describe('secret clients are unaffected', () => {
  it('client_secret_basic still works', async () => {
    const created = await server.createClient({ id: 'still-secret', grantTypes: ['client_credentials'], scopes: ['read'] });
    expect(await clientCredentialsToken(server, created)).toEqual(expect.any(String));
  });
});
