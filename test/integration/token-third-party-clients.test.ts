import * as oauth from 'oauth4webapi';
import * as client from 'openid-client';
import { startTestServer, type TestServer } from '../helpers/server.js';

let server: TestServer;
let secret: string;
let alice: { id: string };

beforeAll(async () => {
  server = await startTestServer();
  secret = (await server.createClient({ id: 'app', grantTypes: ['password', 'refresh_token', 'client_credentials'], scopes: ['read', 'write'] }))
    .clientSecret as string;
  await server.createClient({ id: 'spa', public: true, grantTypes: ['password', 'refresh_token'], scopes: ['read'] });
  alice = await server.createUser({ username: 'alice', password: 'alice password', scopes: ['read', 'write'] });
});
afterAll(() => server.close());

function discover(clientId: string, authentication: client.ClientAuth): Promise<client.Configuration> {
  return client.discovery(new URL(server.baseUrl), clientId, undefined, authentication, { execute: [client.allowInsecureRequests], algorithm: 'oauth2' });
}

describe('openid-client (v6) discovers Gatehouse and uses every grant', () => {
  it('runs the password grant and two refreshes with client_secret_basic', async () => {
    const config = await discover('app', client.ClientSecretBasic(secret));
    expect(config.serverMetadata().issuer).toBe(server.baseUrl);
    const tokens = await client.genericGrantRequest(config, 'password', { username: 'alice', password: 'alice password', scope: 'read write' });
    expect(tokens).toMatchObject({ token_type: 'bearer', scope: 'read write' });
    expect(tokens.expires_in).toBe(900);
    const refreshed = await client.refreshTokenGrant(config, tokens.refresh_token as string);
    expect(refreshed.access_token).not.toBe(tokens.access_token);
    const narrowed = await client.refreshTokenGrant(config, refreshed.refresh_token as string, { scope: 'read' });
    expect(narrowed.scope).toBe('read');
  });

  it('runs the client_credentials grant with client_secret_post', async () => {
    const config = await discover('app', client.ClientSecretPost(secret));
    const tokens = await client.clientCredentialsGrant(config, { scope: 'read' });
    expect(tokens).toMatchObject({ scope: 'read' });
    expect(tokens.refresh_token).toBeUndefined();
  });

  it('runs the password grant as a public client (none)', async () => {
    const config = await discover('spa', client.None());
    const tokens = await client.genericGrantRequest(config, 'password', { username: 'alice', password: 'alice password' });
    expect(tokens.scope).toBe('read');
    expect(typeof tokens.refresh_token).toBe('string');
  });

  it('surfaces RFC 6749 errors with their error code and the Basic challenge', async () => {
    const config = await discover('app', client.ClientSecretBasic(secret));
    await expect(client.genericGrantRequest(config, 'password', { username: 'alice', password: 'wrong' })).rejects.toMatchObject({
      error: 'invalid_grant',
      status: 400,
    });
    // RFC 6749 §5.2: after a failed Basic attempt the 401 carries a Basic challenge, which the client reports as such.
    const wrongBasic = await discover('app', client.ClientSecretBasic(`${secret}x`));
    await expect(client.clientCredentialsGrant(wrongBasic)).rejects.toMatchObject({
      code: 'OAUTH_WWW_AUTHENTICATE_CHALLENGE',
      status: 401,
      cause: [expect.objectContaining({ scheme: 'basic' })],
    });
    const wrongPost = await discover('app', client.ClientSecretPost(`${secret}x`));
    await expect(client.clientCredentialsGrant(wrongPost)).rejects.toMatchObject({ error: 'invalid_client', status: 401 });
  });
});

describe('oauth4webapi discovers Gatehouse, uses every grant and validates the JWT access tokens', () => {
  const options = { [oauth.allowInsecureRequests]: true };
  let as: oauth.AuthorizationServer;
  const appClient: oauth.Client = { client_id: 'app' };

  beforeAll(async () => {
    const issuer = new URL(server.baseUrl);
    as = await oauth.processDiscoveryResponse(issuer, await oauth.discoveryRequest(issuer, { algorithm: 'oauth2', ...options }));
  });

  async function validateAsResourceServer(accessToken: string): Promise<oauth.JWTAccessTokenClaims> {
    const request = new Request('https://api.example.com/resource', { headers: { Authorization: `Bearer ${accessToken}` } });
    return oauth.validateJwtAccessToken(as, request, server.baseUrl, options);
  }

  it('runs the password grant and a refresh, and validates the tokens per RFC 9068', async () => {
    const response = await oauth.genericTokenEndpointRequest(
      as,
      appClient,
      oauth.ClientSecretBasic(secret),
      'password',
      { username: 'alice', password: 'alice password', scope: 'read' },
      options,
    );
    const tokens = await oauth.processGenericTokenEndpointResponse(as, appClient, response);
    expect(tokens.scope).toBe('read');
    const claims = await validateAsResourceServer(tokens.access_token);
    expect(claims).toMatchObject({ sub: alice.id, client_id: 'app', scope: 'read', iss: server.baseUrl });

    const refreshResponse = await oauth.refreshTokenGrantRequest(as, appClient, oauth.ClientSecretPost(secret), tokens.refresh_token as string, options);
    const refreshed = await oauth.processRefreshTokenResponse(as, appClient, refreshResponse);
    expect(refreshed.refresh_token).toEqual(expect.any(String));
    expect(refreshed.refresh_token).not.toBe(tokens.refresh_token);
    await validateAsResourceServer(refreshed.access_token);
  });

  it('runs the client_credentials grant and validates the token', async () => {
    const response = await oauth.clientCredentialsGrantRequest(as, appClient, oauth.ClientSecretBasic(secret), { scope: 'write' }, options);
    const tokens = await oauth.processClientCredentialsResponse(as, appClient, response);
    const claims = await validateAsResourceServer(tokens.access_token);
    expect(claims).toMatchObject({ sub: 'app', client_id: 'app', scope: 'write' });
  });

  it('reports a reused refresh token as invalid_grant', async () => {
    const response = await oauth.genericTokenEndpointRequest(
      as,
      appClient,
      oauth.ClientSecretBasic(secret),
      'password',
      { username: 'alice', password: 'alice password' },
      options,
    );
    const tokens = await oauth.processGenericTokenEndpointResponse(as, appClient, response);
    const refreshToken = tokens.refresh_token as string;
    await oauth.processRefreshTokenResponse(
      as,
      appClient,
      await oauth.refreshTokenGrantRequest(as, appClient, oauth.ClientSecretBasic(secret), refreshToken, options),
    );
    const reuse = await oauth.refreshTokenGrantRequest(as, appClient, oauth.ClientSecretBasic(secret), refreshToken, options);
    await expect(oauth.processRefreshTokenResponse(as, appClient, reuse)).rejects.toMatchObject({ error: 'invalid_grant' });
  });
});
