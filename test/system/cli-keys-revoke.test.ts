import { decodeJwt } from 'jose';
import { openDatabase, closeDatabase } from '../../src/store/database.js';
import { expectOneLineFailure, PROCESS_TEST_TIMEOUT_MS, runCli } from '../helpers/process.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { describeEachTarget, embeddedTarget, type ProcessTarget } from '../helpers/targets.js';
import { introspector, postToken } from '../helpers/token.js';

const SLOW = PROCESS_TEST_TIMEOUT_MS;

describeEachTarget('gatehouse keys and revoke on $name', ({ create }) => {
  let target: ProcessTarget;
  const gatehouse = (args: string[]) => runCli(args, { env: target.env });

  /** Runs `action` against a Gatehouse on the target's database (closed afterwards, freeing DATA_DIR). */
  async function withServer<T>(action: (server: TestServer) => Promise<T>): Promise<T> {
    const { database, keyEncryptionSecret } = await target.open();
    const server = await startTestServer({ database, env: { KEY_ENCRYPTION_SECRET: keyEncryptionSecret } });
    try {
      return await action(server);
    } finally {
      await server.close();
    }
  }

  beforeAll(async () => {
    target = await create();
  });
  afterAll(() => target.dispose());

  describe('keys rotate and keys list show the key lifecycle', () => {
    it(
      'promotes next to current, publishes a new next, and retires the old current',
      async () => {
        const first = await gatehouse(['keys', 'rotate', '--json']);
        expect(first.code).toBe(0);
        const rotated = JSON.parse(first.stdout);
        expect(Object.keys(rotated).sort()).toEqual(['current', 'next']);
        expect(rotated.current).toEqual(expect.any(String));
        expect(rotated.next).toEqual(expect.any(String));
        expect(rotated.current).not.toBe(rotated.next);

        const second = JSON.parse((await gatehouse(['keys', 'rotate', '--json'])).stdout);
        expect(second.current).toBe(rotated.next);
        expect(second.next).not.toBe(rotated.current);

        const listed = await gatehouse(['keys', 'list', '--json']);
        expect(listed.code).toBe(0);
        const keys = JSON.parse(listed.stdout) as { kid: string; state: string; created_at: string }[];
        for (const key of keys) {
          expect(key).toMatchObject({ kid: expect.any(String), state: expect.stringMatching(/^(next|current|retired)$/) });
          expect(Number.isNaN(Date.parse(key.created_at))).toBe(false);
        }
        const stateOf = (kid: string) => keys.find((k) => k.kid === kid)?.state;
        expect(stateOf(second.current)).toBe('current');
        expect(stateOf(second.next)).toBe('next');
        expect(stateOf(rotated.current)).toBe('retired');
        expect(keys.filter((k) => k.state === 'current')).toHaveLength(1);
      },
      SLOW,
    );
  });

  describe('revoke ends grants and access tokens and says how many', () => {
    let aliceRefresh: string;
    let bobRefresh: string;
    let jti: string;

    beforeAll(async () => {
      await withServer(async (server) => {
        await server.createClient({ id: 'app', grantTypes: ['password', 'refresh_token'], scopes: ['read'] }).then(async ({ clientSecret }) => {
          await server.createUser({ username: 'alice', password: 'alice password', scopes: ['read'] });
          await server.createUser({ username: 'bob', password: 'bob password', scopes: ['read'] });
          const login = async (username: string) => {
            const response = await postToken(
              server,
              { grant_type: 'password', username, password: `${username} password` },
              { basic: ['app', clientSecret as string] },
            );
            expect(response.status).toBe(200);
            return response.body as { refresh_token: string; access_token: string };
          };
          aliceRefresh = (await login('alice')).refresh_token;
          await login('alice');
          const bob = await login('bob');
          bobRefresh = bob.refresh_token;
          jti = decodeJwt(bob.access_token).jti as string;
          await server.database.db('clients').where({ id: 'app' }).update({ secret_hash: null, token_endpoint_auth_method: 'none' });
        });
      });
    }, SLOW);

    it(
      'revokes every grant of a user once, then none',
      async () => {
        const first = await gatehouse(['revoke', '--username', 'alice', '--json']);
        expect(first.code).toBe(0);
        expect(JSON.parse(first.stdout)).toEqual({ revoked: 2 });
        const again = await gatehouse(['revoke', '--username', 'alice', '--json']);
        expect(JSON.parse(again.stdout)).toEqual({ revoked: 0 });
        const nobody = await gatehouse(['revoke', '--username', 'nobody', '--json']);
        expect(nobody.code).toBe(0);
        expect(JSON.parse(nobody.stdout)).toEqual({ revoked: 0 });
      },
      SLOW,
    );

    it(
      'revokes one access token by jti',
      async () => {
        expect(JSON.parse((await gatehouse(['revoke', '--jti', jti, '--json'])).stdout)).toEqual({ revoked: 1 });
        expect(JSON.parse((await gatehouse(['revoke', '--jti', jti, '--json'])).stdout)).toEqual({ revoked: 0 });
      },
      SLOW,
    );

    it(
      'revokes by client id, ending its client_credentials tokens too',
      async () => {
        let serviceToken = '';
        await withServer(async (server) => {
          const service = await server.createClient({ id: 'svc', grantTypes: ['client_credentials'], scopes: ['read'] });
          const response = await postToken(server, { grant_type: 'client_credentials' }, { basic: ['svc', service.clientSecret as string] });
          serviceToken = response.body.access_token as string;
          expect((await (await introspector(server))(serviceToken)).body.active).toBe(true);
        });
        // N counts grants; svc has none, but its token ends all the same.
        expect(JSON.parse((await gatehouse(['revoke', '--client-id', 'svc', '--json'])).stdout)).toEqual({ revoked: 0 });
        await withServer(async (server) => {
          expect((await (await introspector(server, 'resource-server-2'))(serviceToken)).body).toEqual({ active: false });
        });
      },
      SLOW,
    );

    it(
      'needs exactly one target',
      async () => {
        expectOneLineFailure(await gatehouse(['revoke', '--json']));
        expectOneLineFailure(await gatehouse(['revoke', '--username', 'alice', '--client-id', 'app']));
      },
      SLOW,
    );

    it(
      'leaves the revoked user unable to refresh and other users untouched',
      async () => {
        await withServer(async (server) => {
          // The client was made public above, so client_id alone authenticates it.
          const alice = await postToken(server, { grant_type: 'refresh_token', refresh_token: aliceRefresh }, { none: 'app' });
          expect(alice.status).toBe(400);
          expect(alice.body.error).toBe('invalid_grant');
          const bob = await postToken(server, { grant_type: 'refresh_token', refresh_token: bobRefresh }, { none: 'app' });
          expect(bob.status).toBe(200);
        });
      },
      SLOW,
    );
  });
});

describe('the embedded database admits one process at a time', () => {
  let target: ProcessTarget;
  let dataDir: string;

  beforeAll(() => {
    target = embeddedTarget();
    dataDir = target.env.DATA_DIR as string;
  });
  afterAll(() => target.dispose());

  it(
    'tells the CLI, in one line, to stop the server or use the admin API while another process holds DATA_DIR',
    async () => {
      const holder = openDatabase({ dataDir });
      try {
        // Started for real, as a server would hold it (and so that closing it stops PGlite: one
        // never queried would still be starting after the test, in the background).
        await holder.raw('select 1');
        // At once: each command waits about a second for a socket that never comes.
        const results = await Promise.all([['keys', 'list'], ['migrate'], ['revoke', '--username', 'alice']].map((args) => runCli(args, { env: target.env })));
        for (const result of results) {
          const line = expectOneLineFailure(result);
          expect(line).toMatch(/stop the server/);
          expect(line).toMatch(/admin API/);
        }
      } finally {
        await closeDatabase(holder);
      }
    },
    SLOW,
  );
});
