import { createLocalJWKSet, jwtVerify } from 'jose';
import { basicAuth, startTestServer, type TestServer } from '../helpers/server.js';

describe('password grant issues a verifiable RFC 9068 access token', () => {
  let server: TestServer;
  let secret: string;

  beforeAll(async () => {
    server = await startTestServer();
    secret = (await server.createClient({ id: 'app', scopes: ['read', 'write', 'admin'] })).clientSecret as string;
    await server.createUser({ username: 'alice', password: 'correct horse', scopes: ['read', 'write'], email: 'alice@example.com' });
  });
  afterAll(() => server.close());

  it('returns a token response that jose verifies against the JWKS', async () => {
    const response = await server.http
      .post('/token')
      .set('Authorization', basicAuth('app', secret))
      .type('form')
      .send({ grant_type: 'password', username: 'alice', password: 'correct horse', scope: 'read' });
    expect(response.status).toBe(200);
    expect(response.headers['cache-control']).toBe('no-store');
    expect(response.body).toMatchObject({ token_type: 'Bearer', expires_in: 900, scope: 'read' });
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
    const response = await server.http
      .post('/token')
      .set('Authorization', basicAuth('app', secret))
      .type('form')
      .send({ grant_type: 'password', username: 'alice', password: 'wrong' });
    expect(response.status).toBe(400);
    expect(response.body.error).toBe('invalid_grant');
  });
});
