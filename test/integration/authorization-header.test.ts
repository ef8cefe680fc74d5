import { rawRequest } from '../helpers/raw-http.js';
import { basicAuth, startTestServer, type TestServer } from '../helpers/server.js';
import { adminToken } from '../helpers/token.js';

/**
 * Authorization is no list (RFC 9110 §11.6.2). Node keeps only the first of several, so a proxy
 * that reads the last one and Gatehouse would disagree about the caller: several are refused.
 */
describe('a request with several Authorization headers', () => {
  let server: TestServer;
  let token: string;
  let basic: string;

  beforeAll(async () => {
    server = await startTestServer();
    token = await adminToken(server, ['admin:users']);
    const client = await server.createClient({ id: 'app', grantTypes: ['client_credentials'] });
    basic = basicAuth(client.clientId, client.clientSecret as string);
  });
  afterAll(() => server.close());

  it('is refused 400 invalid_request by the admin API and by /token; one header is fine', async () => {
    const twice = await rawRequest(server.baseUrl, 'GET', '/admin/users', { headers: [`Authorization: Bearer ${token}`, 'Authorization: Bearer other'] });
    expect({ status: twice.status, error: JSON.parse(twice.body).error }).toEqual({ status: 400, error: 'invalid_request' });
    expect((await rawRequest(server.baseUrl, 'GET', '/admin/users', { headers: [`Authorization: Bearer ${token}`] })).status).toBe(200);

    const token2 = await rawRequest(server.baseUrl, 'POST', '/token', {
      headers: ['Content-Type: application/x-www-form-urlencoded', `Authorization: ${basic}`, `authorization: ${basic}`],
    });
    expect({ status: token2.status, error: JSON.parse(token2.body).error }).toEqual({ status: 400, error: 'invalid_request' });
    expect(JSON.parse(token2.body).error_description).toMatch(/one Authorization header/);
  });
});
