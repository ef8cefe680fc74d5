import { runOpenIdClientExample } from '../../examples/openid-client.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

let server: TestServer;
let app: { clientId: string; clientSecret: string | null };
let api: { clientId: string; clientSecret: string | null };

beforeAll(async () => {
  server = await startTestServer();
  app = await server.createClient({ id: 'app', grantTypes: ['password', 'refresh_token'], scopes: ['read', 'write'] });
  api = await server.createClient({ id: 'api', grantTypes: ['client_credentials'], scopes: ['introspect'] });
  await server.createUser({ username: 'alice', password: 'alice password', scopes: ['read', 'write'] });
});
afterAll(() => server.close());

describe('examples/openid-client.ts discovers Gatehouse, refreshes, introspects and revokes', () => {
  it('runs every step against a real server and reports what each step saw', async () => {
    const lines: string[] = [];
    const result = await runOpenIdClientExample({
      issuer: server.baseUrl,
      client: { id: app.clientId, secret: app.clientSecret as string },
      resourceServer: { id: api.clientId, secret: api.clientSecret as string },
      username: 'alice',
      password: 'alice password',
      scope: 'read',
      log: (line) => lines.push(line),
    });
    expect(result).toEqual({
      issuer: server.baseUrl,
      grantedScope: 'read',
      refreshedScope: 'read',
      activeBeforeRevocation: true,
      activeAfterRevocation: false,
      refreshTokenActiveAfterRevocation: false,
    });
    expect(lines).toHaveLength(6);
    expect(lines[0]).toContain(`discovered ${server.baseUrl}`);
    expect(lines.join('\n')).not.toContain('alice password');
  });

  it('fails the way openid-client reports RFC 6749 errors when the password is wrong', async () => {
    await expect(
      runOpenIdClientExample({
        issuer: server.baseUrl,
        client: { id: app.clientId, secret: app.clientSecret as string },
        resourceServer: { id: api.clientId, secret: api.clientSecret as string },
        username: 'alice',
        password: 'wrong',
        log: () => undefined,
      }),
    ).rejects.toMatchObject({ error: 'invalid_grant', status: 400 });
  });
});
