import { jest } from '@jest/globals';
import { startExpressResourceServer } from '../../examples/express-resource-server.js';
import { freePort } from '../helpers/process.js';
import { API_AUDIENCE, describeResourceServer } from '../helpers/resource-server-cases.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { passwordTokens } from '../helpers/token.js';

describeResourceServer('examples/express-resource-server.ts (express-oauth2-jwt-bearer)', startExpressResourceServer);

/** Express answers what it does not handle with an HTML page (with a stack trace, outside production): the example never does. */
describe('examples/express-resource-server.ts answers JSON whatever fails', () => {
  let gatehouse: TestServer;
  let api: { url: string; close(): Promise<void> };

  beforeAll(async () => {
    gatehouse = await startTestServer();
    api = await startExpressResourceServer({ issuer: gatehouse.baseUrl, audience: API_AUDIENCE });
  });
  afterAll(async () => {
    await api?.close();
    await gatehouse?.close();
  });

  const expectJsonError = async (response: Response, status: number, error: string) => {
    expect(response.status).toBe(status);
    expect(response.headers.get('content-type')).toMatch(/^application\/json/);
    const body = await response.text();
    expect(JSON.parse(body)).toMatchObject({ error, error_description: expect.any(String) });
    expect(body).not.toMatch(/<html|<pre>|\bat \S+ \(|node_modules/i);
  };

  it('a path it does not serve, with a valid token: 404 in JSON', async () => {
    const web = await gatehouse.createClient({ id: 'web', grantTypes: ['password'], scopes: ['read'], audience: API_AUDIENCE });
    const alice = await gatehouse.createUser({ username: 'alice', scopes: ['read'] });
    const { access_token: token } = await passwordTokens(gatehouse, web, alice, 'read');
    await expectJsonError(await fetch(`${api.url}/nothing-here`, { headers: { Authorization: `Bearer ${token}` } }), 404, 'not_found');
  });

  it('Gatehouse unreachable: a JSON error, no stack trace', async () => {
    const issuer = `http://127.0.0.1:${await freePort()}`;
    const cut = await startExpressResourceServer({ issuer, audience: issuer });
    const logged = jest.spyOn(console, 'error').mockImplementation(() => undefined);
    try {
      const response = await fetch(`${cut.url}/documents`, { headers: { Authorization: 'Bearer eyJhbGciOiJSUzI1NiIsImtpZCI6IngifQ.eyJzdWIiOiJ4In0.c2ln' } });
      await expectJsonError(response, 401, 'invalid_token');
    } finally {
      logged.mockRestore();
      await cut.close();
    }
  });
});
