import { sha256Hex } from '../../src/lib/hash.js';
import { CLI_ACTOR } from '../../src/services/actor.js';
import { revokeGrantsAndAudit } from '../../src/services/grants.js';
import { createTestDatabase, describeWithPostgres } from '../helpers/database.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { adminToken, clientCredentialsToken, introspector, postToken } from '../helpers/token.js';

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

describeWithPostgres('on PostgreSQL, a change to a client at one instance reaches the cache of every other at once', () => {
  let server: TestServer;
  let other: TestServer;
  const secret = 'another-client-secret-of-forty-characters';
  const askOther = (clientId: string) => other.http.post('/token').auth(clientId, secret).type('form').send({ grant_type: 'client_credentials' });

  /** Polls `check` until it is true: the other instance hears of a change when it commits, a moment later. */
  const eventually = async (check: () => Promise<boolean>): Promise<boolean> => {
    for (const deadline = Date.now() + 30_000; Date.now() < deadline; await new Promise((r) => setTimeout(r, 20))) if (await check()) return true;
    return false;
  };

  beforeAll(async () => {
    // Two instances of one issuer on one PostgreSQL database, each told of it as in production.
    const database = await createTestDatabase();
    const env = { DATABASE_URL: database.url as string };
    server = await startTestServer({ database, env });
    // The other instance remembers authentications for ten minutes: only the announcement of a
    // change can make it look again within this test.
    other = await startTestServer({
      env: { ...env, ISSUER: server.baseUrl },
      database: { ...database, close: async () => undefined },
      clientAuthCacheTtlMs: 600_000,
    });
  });
  afterAll(async () => {
    await other.close();
    await server.close();
  });

  it('a client deleted at one instance is refused at the other', async () => {
    await server.createClient({ id: 'deleted-elsewhere', secret, grantTypes: ['client_credentials'], scopes: ['read'] });
    expect((await askOther('deleted-elsewhere')).status).toBe(200);
    const admin = await adminToken(server, ['admin:clients'], 'clients-admin');
    expect((await server.http.delete('/admin/clients/deleted-elsewhere').auth(admin, { type: 'bearer' })).status).toBe(204);
    expect(await eventually(async () => (await askOther('deleted-elsewhere')).status === 401)).toBe(true);
  });

  it('after a revocation by client at one instance, the other issues live tokens from a fresh block', async () => {
    await server.createClient({ id: 'revoked-elsewhere', secret, grantTypes: ['client_credentials'], scopes: ['read'] });
    const ask = await introspector(server, 'introspector-of-revocations');
    const before = (await askOther('revoked-elsewhere')).body.access_token as string;
    expect((await ask(before)).body.active).toBe(true);
    await revokeGrantsAndAudit(server.database.db, { clientId: 'revoked-elsewhere' }, { actor: CLI_ACTOR, reason: 'cli', now: new Date() });
    expect((await ask(before)).body.active).toBe(false);
    // Until the other instance hears of it, its tokens come from the ended block and are born revoked.
    expect(await eventually(async () => (await ask((await askOther('revoked-elsewhere')).body.access_token as string)).body.active === true)).toBe(true);
  });
});
