import { preparedQuery } from '../../src/store/database.js';
import { testDatabaseUrl } from '../helpers/database.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { introspector, passwordTokens, refresh } from '../helpers/token.js';

/**
 * The hot paths run prepared statements (parsed and planned once per connection, src/store/database.ts
 * preparedQuery). A prepared statement whose result type changes under it fails on PostgreSQL until
 * its connection closes ("cached plan must not change result type"), so none of them may return
 * columns that follow a table's definition. Here a migration of a newer version adds columns to
 * every table they read while this server keeps serving from connections that prepared them.
 */
describe('hot-path statements while a newer migration adds columns', () => {
  let server: TestServer;
  const app = { clientId: 'app', clientSecret: null as string | null };
  const user = { username: 'alice', password: '' };

  beforeAll(async () => {
    server = await startTestServer();
    app.clientSecret = (await server.createClient({ id: 'app', grantTypes: ['password', 'refresh_token'] })).clientSecret;
    user.password = (await server.createUser({ username: 'alice' })).password;
  });
  afterAll(() => server.close());

  it('keeps refreshing and introspecting after grants, refresh_tokens, users and revoked_access_tokens gain a column', async () => {
    let current: string[] = [];
    for (let family = 0; family < 6; family++) current.push((await passwordTokens(server, app, user)).refresh_token as string);
    const ask = await introspector(server);
    const refreshAll = async (): Promise<void> => {
      // At once (several pooled connections prepare the statements), then one after another.
      const atOnce = await Promise.all(current.map((token) => refresh(server, app, token)));
      expect(atOnce.map((response) => response.status)).toEqual(current.map(() => 200));
      current = atOnce.map((response) => response.body.refresh_token);
      for (const [index, token] of current.entries()) {
        const response = await refresh(server, app, token);
        expect(response.status).toBe(200);
        current[index] = response.body.refresh_token;
        expect((await ask(response.body.access_token)).body.active).toBe(true);
        expect((await ask(response.body.refresh_token, 'refresh_token')).body).toMatchObject({ active: true, username: 'alice' });
      }
    };
    await refreshAll();
    for (const table of ['grants', 'refresh_tokens', 'users', 'revoked_access_tokens']) {
      await server.database.db.raw(`ALTER TABLE ${table} ADD COLUMN added_by_a_newer_version text`);
    }
    await refreshAll();
  });
});

describe('preparedQuery', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(() => server.close());

  const countClients = (db: Parameters<typeof preparedQuery>[0]) =>
    preparedQuery<{ n: number }>(db, 'test_count_clients', 'SELECT count(*)::int AS n FROM clients WHERE id LIKE ?', ['prepared-%']);

  it('runs in a transaction on its connection: it sees the rows the transaction wrote, and nothing after the transaction', async () => {
    const { db } = server.database;
    await db
      .transaction(async (trx) => {
        await trx.raw(
          `INSERT INTO clients (id, grant_types, scopes, created_at, updated_at) VALUES ('prepared-1', '{client_credentials}', '{}', now(), now())`,
        );
        expect((await countClients(trx)).rows).toEqual([{ n: 1 }]);
        // Not yet committed: another connection does not see the row (PGlite has only the one).
        if (testDatabaseUrl) expect((await countClients(db)).rows).toEqual([{ n: 0 }]);
        await trx.rollback();
      })
      .catch(() => undefined);
    expect((await countClients(db)).rows).toEqual([{ n: 0 }]);
    const trx = await db.transaction();
    await trx.commit();
    await expect(countClients(trx)).rejects.toThrow(/transaction is already over/);
  });

  it('numbers its bindings in order, arrays and nulls among them', async () => {
    const { rows } = await preparedQuery<{ a: string; b: number[]; c: null }>(
      server.database.db,
      'test_bindings',
      'SELECT ?::text AS a, ?::int[] AS b, ?::text AS c',
      ['one', [2, 3], null],
    );
    expect(rows).toEqual([{ a: 'one', b: [2, 3], c: null }]);
  });
});
