import { sha256Hex } from '../../src/lib/hash.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { clientCredentialsToken, postToken } from '../helpers/token.js';

describe('remembered client authentications stay exact enough', () => {
  let server: TestServer;
  const secret = 'a-client-secret-of-forty-characters-long!';
  const ask = (clientId: string) => postToken(server, { grant_type: 'client_credentials' }, { basic: [clientId, secret] });

  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(() => server.close());

  it('a client written by another process (the CLI, another instance) works at once, even right after a failed try', async () => {
    expect((await ask('made-elsewhere')).status).toBe(401);
    // Straight into the table, as another process would: nothing in this process hears of it.
    const now = new Date();
    await server.database.db('clients').insert({
      id: 'made-elsewhere',
      secret_hash: sha256Hex(secret),
      grant_types: ['client_credentials'],
      scopes: ['read'],
      created_at: now,
      updated_at: now,
    });
    expect((await ask('made-elsewhere')).status).toBe(200);
  });

  it('a successful authentication is remembered, but a change through this process ends it at once', async () => {
    await server.createClient({ id: 'svc', grantTypes: ['client_credentials'], secret });
    expect((await ask('svc')).status).toBe(200);
    const admin = await server.createClient({ id: 'admin', grantTypes: ['client_credentials'], scopes: ['admin:clients'] });
    const token = await clientCredentialsToken(server, admin);
    expect((await server.http.delete('/admin/clients/svc').set('Authorization', `Bearer ${token}`)).status).toBe(204);
    expect((await ask('svc')).status).toBe(401);
  });
});
