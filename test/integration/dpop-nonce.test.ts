import { calculateJwkThumbprint, exportJWK } from 'jose';
import * as oauth from 'oauth4webapi';
import * as client from 'openid-client';
import { createTestDatabase, itWithPostgres, type TestDatabase } from '../helpers/database.js';
import { makeProof, proofKey } from '../helpers/dpop.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { expectOAuthError, tokenRequest, verifyAccessToken } from '../helpers/token.js';
import { closeDatabase, openDatabase } from '../../src/store/database.js';

// DPOP_NONCE=true (RFC 9449 §8): real clients (oauth4webapi, openid-client) with their nonce
// retry, hand-made proofs without or with a stale nonce, and two instances on one database.

let ENV: Record<string, string>;
let server: TestServer;
let htu: string;
let appSecret: string;

beforeAll(async () => {
  const database = await createTestDatabase();
  // DATABASE_URL makes the replay cache the shared table, as in production (embedded: memory).
  ENV = { DPOP_NONCE: 'true', CORS_ORIGINS: 'https://app.example', ...(database.url ? { DATABASE_URL: database.url } : {}) };
  server = await startTestServer({ env: ENV, database });
  htu = `${server.baseUrl}/token`;
  appSecret = (await server.createClient({ id: 'app', grantTypes: ['password', 'refresh_token', 'client_credentials'], scopes: ['read'] }))
    .clientSecret as string;
  await server.createClient({ id: 'spa', public: true, grantTypes: ['password', 'refresh_token'], scopes: ['read'] });
  await server.createUser({ username: 'alice', password: 'alice password', scopes: ['read'] });
});
afterAll(() => server.close());

async function jktOf(keyPair: CryptoKeyPair): Promise<string> {
  return calculateJwkThumbprint(await exportJWK(keyPair.publicKey), 'sha256');
}

/** Verified against the published JWKS (jose createRemoteJWKSet), bound to `jkt`. */
async function expectBoundTo(accessToken: string, jkt: string): Promise<void> {
  const { payload } = await verifyAccessToken(server, accessToken);
  expect(payload.cnf).toEqual({ jkt });
}

describe('oauth4webapi with a DPoP handle retries on use_dpop_nonce and gets bound tokens', () => {
  const options = { [oauth.allowInsecureRequests]: true };

  /** The retry an oauth4webapi application writes: once more when the server asks for a nonce. */
  async function withNonceRetry<T>(attempt: () => Promise<T>): Promise<T> {
    try {
      return await attempt();
    } catch (error) {
      if (!oauth.isDPoPNonceError(error)) throw error;
      return attempt();
    }
  }

  it('runs password, refresh and client_credentials', async () => {
    const issuer = new URL(server.baseUrl);
    const as = await oauth.processDiscoveryResponse(issuer, await oauth.discoveryRequest(issuer, { algorithm: 'oauth2', ...options }));
    expect(as.dpop_signing_alg_values_supported).toContain('ES256');
    const keyPair = await oauth.generateKeyPair('ES256');
    const jkt = await jktOf(keyPair);

    const spa: oauth.Client = { client_id: 'spa' };
    const spaDpop = oauth.DPoP(spa, keyPair);
    let nonceErrors = 0;
    const tokens = await withNonceRetry(async () => {
      const response = await oauth.genericTokenEndpointRequest(
        as,
        spa,
        oauth.None(),
        'password',
        { username: 'alice', password: 'alice password' },
        {
          ...options,
          DPoP: spaDpop,
        },
      );
      try {
        return await oauth.processGenericTokenEndpointResponse(as, spa, response);
      } catch (error) {
        if (oauth.isDPoPNonceError(error)) nonceErrors++;
        throw error;
      }
    });
    // The first proof had no nonce: the server asked for one, the handle kept it, the retry passed.
    expect(nonceErrors).toBe(1);
    expect(tokens.token_type).toBe('dpop');
    await expectBoundTo(tokens.access_token, jkt);

    const refreshed = await oauth.processRefreshTokenResponse(
      as,
      spa,
      await oauth.refreshTokenGrantRequest(as, spa, oauth.None(), tokens.refresh_token as string, { ...options, DPoP: spaDpop }),
    );
    await expectBoundTo(refreshed.access_token, jkt);

    const app: oauth.Client = { client_id: 'app' };
    const appDpop = oauth.DPoP(app, keyPair);
    const clientTokens = await withNonceRetry(async () =>
      oauth.processClientCredentialsResponse(
        as,
        app,
        await oauth.clientCredentialsGrantRequest(as, app, oauth.ClientSecretBasic(appSecret), { scope: 'read' }, { ...options, DPoP: appDpop }),
      ),
    );
    await expectBoundTo(clientTokens.access_token, jkt);
  });
});

describe('openid-client (v6) with getDPoPHandle retries on use_dpop_nonce by itself', () => {
  it('runs password, refresh and client_credentials', async () => {
    const discover = (clientId: string, authentication: client.ClientAuth): Promise<client.Configuration> =>
      client.discovery(new URL(server.baseUrl), clientId, undefined, authentication, { execute: [client.allowInsecureRequests], algorithm: 'oauth2' });
    const keyPair = await client.randomDPoPKeyPair('ES256');
    const jkt = await jktOf(keyPair);

    const spa = await discover('spa', client.None());
    const spaDpop = client.getDPoPHandle(spa, keyPair);
    const tokens = await client.genericGrantRequest(spa, 'password', { username: 'alice', password: 'alice password' }, { DPoP: spaDpop });
    expect(tokens.token_type).toBe('dpop');
    await expectBoundTo(tokens.access_token, jkt);
    const refreshed = await client.refreshTokenGrant(spa, tokens.refresh_token as string, undefined, { DPoP: spaDpop });
    await expectBoundTo(refreshed.access_token, jkt);

    const app = await discover('app', client.ClientSecretPost(appSecret));
    const clientTokens = await client.clientCredentialsGrant(app, { scope: 'read' }, { DPoP: client.getDPoPHandle(app, keyPair) });
    await expectBoundTo(clientTokens.access_token, jkt);
  });
});

describe('the server nonce is required, current, and on every /token answer', () => {
  const post = (proof?: string, auth: { basic: [string, string] } | { none: string } = { none: 'spa' }) => {
    const request = tokenRequest({ grant_type: 'password', username: 'alice', password: 'alice password' }, auth, proof ? { DPoP: proof } : {});
    return server.http.post('/token').set(request.headers).set('Origin', 'https://app.example').send(request.body);
  };

  it('answers a proof without a nonce, or with one that is not current, 400 use_dpop_nonce with a fresh DPoP-Nonce', async () => {
    const key = await proofKey();
    for (const nonce of [undefined, 'A'.repeat(43), 'not-a-nonce']) {
      const response = await post(await makeProof(key, { htu, nonce }));
      expectOAuthError(response, 400, 'use_dpop_nonce');
      expect(response.headers['dpop-nonce']).toMatch(/^[A-Za-z0-9_-]{43}$/);
      expect(response.headers['www-authenticate']).toBeUndefined();
    }
    const fresh = (await post()).headers['dpop-nonce'] as string;
    expect((await post(await makeProof(key, { htu, nonce: fresh }))).body.token_type).toBe('DPoP');
  });

  it('sends DPoP-Nonce on successes and on every error, readable by a browser app (CORS)', async () => {
    const plain = await post();
    expect(plain.status).toBe(200);
    expect(plain.body.token_type).toBe('Bearer');
    const refusedClient = await post(undefined, { basic: ['app', 'wrong secret wrong secret wrong secret'] });
    const badProof = await post('not-a-proof');
    for (const response of [plain, refusedClient, badProof]) {
      expect(response.headers['dpop-nonce']).toMatch(/^[A-Za-z0-9_-]{43}$/);
      expect(response.headers['access-control-expose-headers']).toContain('DPoP-Nonce');
    }
    expect([refusedClient.status, badProof.status]).toEqual([401, 400]);
  });
});

describe('two instances on one database (same ISSUER and KEY_ENCRYPTION_SECRET)', () => {
  let other: TestServer;
  beforeAll(async () => {
    // On PostgreSQL the second instance has a pool of its own; embedded, both share the one PGlite.
    const url = server.database.url;
    const db = url ? openDatabase({ databaseUrl: url }) : server.database.db;
    const database: TestDatabase = { db, url, close: async () => (url ? closeDatabase(db) : undefined) };
    other = await startTestServer({ env: { ...ENV, ISSUER: server.baseUrl }, database });
  });
  afterAll(() => other?.close());

  const post = (at: TestServer, proof: string) => {
    const request = tokenRequest({ grant_type: 'client_credentials' }, { basic: ['app', appSecret] }, { DPoP: proof });
    return at.http.post('/token').set(request.headers).send(request.body);
  };

  it('accepts at one instance a nonce the other handed out, without a database write', async () => {
    const key = await proofKey();
    const nonce = (await post(server, await makeProof(key, { htu }))).headers['dpop-nonce'] as string;
    const response = await post(other, await makeProof(key, { htu, nonce }));
    expect(response.status).toBe(200);
    await expectBoundTo(response.body.access_token as string, key.jkt);
  });

  itWithPostgres('refuses at one instance a proof the other accepted (the replay cache is shared)', async () => {
    const key = await proofKey();
    const nonce = (await post(server, await makeProof(key, { htu }))).headers['dpop-nonce'] as string;
    const proof = await makeProof(key, { htu, nonce });
    expect((await post(server, proof)).status).toBe(200);
    const replayed = expectOAuthError(await post(other, proof), 400, 'invalid_dpop_proof');
    expect(replayed.error_description).toContain('"jti" has been used before');
  });
});
