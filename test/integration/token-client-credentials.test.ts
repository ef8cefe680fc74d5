import { startTestServer, type TestServer } from '../helpers/server.js';
import { expectOAuthError, postToken, verifyAccessToken, type TestClientAuth } from '../helpers/token.js';

let server: TestServer;
let service: TestClientAuth;

beforeAll(async () => {
  server = await startTestServer();
  const secret = (await server.createClient({ id: 'reporting-service', grantTypes: ['client_credentials'], scopes: ['reports:read', 'reports:write'] }))
    .clientSecret as string;
  service = { basic: ['reporting-service', secret] };
});
afterAll(() => server.close());

describe('client_credentials issues a token for the client itself', () => {
  it('has sub = client id, no user claims and no refresh token', async () => {
    const response = await postToken(server, { grant_type: 'client_credentials', scope: 'reports:read' }, service);
    expect(response.status).toBe(200);
    expect(response.headers['cache-control']).toBe('no-store');
    expect(response.body).toMatchObject({ token_type: 'Bearer', expires_in: 900, scope: 'reports:read' });
    expect(response.body).not.toHaveProperty('refresh_token');
    const { payload, protectedHeader } = await verifyAccessToken(server, response.body.access_token);
    expect(protectedHeader).toMatchObject({ alg: 'RS256', typ: 'at+jwt' });
    expect(payload).toMatchObject({
      iss: server.baseUrl,
      sub: 'reporting-service',
      aud: server.baseUrl,
      client_id: 'reporting-service',
      scope: 'reports:read',
    });
    expect(payload).not.toHaveProperty('username');
    expect((payload.exp as number) - (payload.iat as number)).toBe(900);
  });

  it('issues no refresh token even to a client that may also refresh', async () => {
    const both = await server.createClient({ id: 'both', grantTypes: ['client_credentials', 'refresh_token'], scopes: ['read'] });
    const response = await postToken(server, { grant_type: 'client_credentials' }, { post: ['both', both.clientSecret as string] });
    expect(response.status).toBe(200);
    expect(response.body).not.toHaveProperty('refresh_token');
  });

  it('uses the client audience as aud when the client has one', async () => {
    const api = await server.createClient({ id: 'api-caller', grantTypes: ['client_credentials'], scopes: ['read'], audience: 'urn:example:api' });
    const response = await postToken(server, { grant_type: 'client_credentials' }, { basic: ['api-caller', api.clientSecret as string] });
    const { payload } = await verifyAccessToken(server, response.body.access_token, 'urn:example:api');
    expect(payload.aud).toBe('urn:example:api');
  });
});

describe('client_credentials scope is limited to the client’s scopes', () => {
  it('grants all the client’s scopes when none is requested', async () => {
    const response = await postToken(server, { grant_type: 'client_credentials' }, service);
    expect(response.status).toBe(200);
    expect(response.body.scope.split(' ').sort()).toEqual(['reports:read', 'reports:write']);
  });

  it('refuses a scope beyond the client’s with invalid_scope', async () => {
    expectOAuthError(await postToken(server, { grant_type: 'client_credentials', scope: 'reports:read admin' }, service), 400, 'invalid_scope');
  });
});

describe('client_credentials is for confidential clients registered for it', () => {
  it('refuses a public client with a 4xx RFC 6749 error', async () => {
    await server.createClient({ id: 'spa', public: true, grantTypes: ['password', 'refresh_token'] });
    const response = await postToken(server, { grant_type: 'client_credentials' }, { none: 'spa' });
    expectOAuthError(response, 400, 'unauthorized_client');
  });

  it('refuses a public client even when its registration lists client_credentials', async () => {
    await server.createClient({ id: 'odd-spa', public: true, grantTypes: ['password'] });
    // Registration refuses this combination; a row edited by hand must still not get a token.
    await server.database
      .db('clients')
      .where({ id: 'odd-spa' })
      .update({ grant_types: ['password', 'client_credentials'] });
    const response = await postToken(server, { grant_type: 'client_credentials' }, { none: 'odd-spa' });
    expectOAuthError(response, 400, 'unauthorized_client');
  });

  it('refuses a confidential client without the grant type with unauthorized_client', async () => {
    const user = await server.createClient({ id: 'password-only', grantTypes: ['password'], scopes: ['read'] });
    expectOAuthError(
      await postToken(server, { grant_type: 'client_credentials' }, { basic: ['password-only', user.clientSecret as string] }),
      400,
      'unauthorized_client',
    );
  });
});
