import { decodeProtectedHeader } from 'jose';
import { postTokenTo } from '../helpers/token.js';
import {
  BOOTSTRAP_ADMIN_CLIENT,
  expectOneLineFailure,
  PROCESS_TEST_TIMEOUT_MS,
  runCli,
  runServerToExit,
  startServerProcess,
  type ServerProcess,
} from '../helpers/process.js';
import { embeddedTarget, type ProcessTarget } from '../helpers/targets.js';

/**
 * On the embedded database a running server holds DATA_DIR, and the CLI sends its commands to the
 * server over the socket in DATA_DIR: the same output shapes and exit codes as without a server,
 * audited as the CLI. A second server on the same DATA_DIR is still refused.
 */

const SLOW = PROCESS_TEST_TIMEOUT_MS;

describe('the CLI while a server holds the embedded DATA_DIR', () => {
  let target: ProcessTarget;
  let server: ServerProcess;
  const gatehouse = (args: string[], input?: string) => runCli(args, { env: target.env, input });
  /** Key names of each printed JSON object: the output's shape. */
  const shape = (stdout: string): string[][] => [JSON.parse(stdout)].flat().map((item: object) => Object.keys(item).sort());
  let alone: { userCreate: string; userList: string };

  beforeAll(async () => {
    target = embeddedTarget();
    // Without a server first: the shapes to compare with.
    const created = await gatehouse(['user', 'create', '--username', 'first', '--password-stdin', '--scopes', 'read', '--json'], 'first password');
    const users = await gatehouse(['user', 'list', '--json']);
    expect([created.code, users.code]).toEqual([0, 0]);
    alone = { userCreate: created.stdout, userList: users.stdout };
    server = await startServerProcess({ ...target.env, LOG_LEVEL: 'info' });
  }, SLOW);

  afterAll(async () => {
    await server?.stop();
    await target?.dispose();
  }, SLOW);

  it(
    'creates and lists users and clients, rotates and lists keys, revokes: same shapes and exit codes as alone',
    async () => {
      const user = await gatehouse(['user', 'create', '--username', 'ada', '--password-stdin', '--scopes', 'read', '--json'], 'ada password\n');
      expect(user).toMatchObject({ code: 0, stderr: '' });
      expect(shape(user.stdout)).toEqual(shape(alone.userCreate));
      expect(JSON.parse(user.stdout).username).toBe('ada');

      const users = await gatehouse(['user', 'list', '--json']);
      expect(users).toMatchObject({ code: 0, stderr: '' });
      expect(JSON.parse(users.stdout).map((u: { username: string }) => u.username)).toEqual(expect.arrayContaining(['first', 'ada']));
      expect(shape(users.stdout)[0]).toEqual(shape(alone.userList)[0]);

      const client = await gatehouse(BOOTSTRAP_ADMIN_CLIENT);
      expect(client).toMatchObject({ code: 0, stderr: '' });
      const { client_id: clientId, client_secret: clientSecret } = JSON.parse(client.stdout);
      expect(clientId).toBe('admin-cli');

      // The server serves at once what its CLI created: a token for the new client.
      const token = await postTokenTo(server.baseUrl, { grant_type: 'client_credentials' }, { basic: [clientId, clientSecret] });
      expect(token.status).toBe(200);
      const accessToken = token.body.access_token as string;

      const before = await gatehouse(['keys', 'list', '--json']);
      const rotated = await gatehouse(['keys', 'rotate', '--json']);
      expect(rotated).toMatchObject({ code: 0, stderr: '' });
      expect(Object.keys(JSON.parse(rotated.stdout)).sort()).toEqual(['current', 'next']);
      const after = await gatehouse(['keys', 'list', '--json']);
      expect(shape(after.stdout)[0]).toEqual(expect.arrayContaining(['kid', 'state', 'created_at']));
      const next = JSON.parse(before.stdout).find((key: { state: string }) => key.state === 'next').kid;
      expect(JSON.parse(rotated.stdout).current).toBe(next);
      expect(JSON.parse(after.stdout).find((key: { state: string }) => key.state === 'current').kid).toBe(next);
      // The server that ran the rotation signs with the new key at once.
      const signed = await postTokenTo(server.baseUrl, { grant_type: 'client_credentials' }, { basic: [clientId, clientSecret] });
      expect(decodeProtectedHeader(signed.body.access_token as string).kid).toBe(next);

      const revoked = await gatehouse(['revoke', '--client-id', 'admin-cli', '--json']);
      expect(revoked).toMatchObject({ code: 0, stderr: '' });
      expect(JSON.parse(revoked.stdout)).toEqual({ revoked: expect.any(Number) });
      // Revoked through the server's own database: its token is refused at once.
      expect((await fetch(`${server.baseUrl}/admin/users`, { headers: { Authorization: `Bearer ${accessToken}` } })).status).toBe(401);

      // The audit log names the CLI as the actor of what it did; the server's log names the commands, never their secrets.
      const fresh = await postTokenTo(server.baseUrl, { grant_type: 'client_credentials', scope: 'admin:tokens' }, { basic: [clientId, clientSecret] });
      const audit = await fetch(`${server.baseUrl}/admin/audit?limit=50`, { headers: { Authorization: `Bearer ${fresh.body.access_token as string}` } });
      expect(audit.status).toBe(200);
      const entries = ((await audit.json()) as { items: { actor: { type: string }; action: string }[] }).items;
      const byCli = entries.filter((entry) => entry.actor.type === 'cli').map((entry) => entry.action);
      expect(byCli).toEqual(expect.arrayContaining([expect.stringMatching(/user/), expect.stringMatching(/client/), expect.stringMatching(/key/)]));
      const log = server.stdout();
      expect(log).toMatch(/"command":"client create","code":0,"msg":"CLI command over the socket"/);
      expect(log).not.toContain(clientSecret);
      expect(log).not.toContain('ada password');
    },
    SLOW,
  );

  it(
    'reports a failing command in one line with its exit code, as without a server',
    async () => {
      const duplicate = await gatehouse(['user', 'create', '--username', 'first', '--password-stdin', '--scopes', 'read'], 'another password');
      expect(expectOneLineFailure(duplicate)).toMatch(/^gatehouse: .*already exists/);
      expect(duplicate.code).toBe(1);
    },
    SLOW,
  );

  it(
    'refuses keys rotate under a KEY_ENCRYPTION_SECRET that does not open the keys, as without a server; the keys stay',
    async () => {
      const before = await gatehouse(['keys', 'list', '--json']);
      const refused = await runCli(['keys', 'rotate', '--json'], {
        env: { ...target.env, KEY_ENCRYPTION_SECRET: 'a-secret-that-opens-none-of-the-keys-0123456789' },
      });
      expect(expectOneLineFailure(refused)).toMatch(/^gatehouse: KEY_ENCRYPTION_SECRET does not decrypt the stored signing keys/);
      expect((await gatehouse(['keys', 'list', '--json'])).stdout).toBe(before.stdout);
    },
    SLOW,
  );

  it(
    'refuses keys reencrypt, which needs the database to itself, in one line',
    async () => {
      const line = expectOneLineFailure(await gatehouse(['keys', 'reencrypt', '--old-secret-stdin'], 'an-old-secret-of-at-least-32-characters'));
      expect(line).toMatch(/^gatehouse: this command needs the embedded database to itself: stop the Gatehouse process \(pid \d+\)/);
    },
    SLOW,
  );

  it(
    'refuses a second server on the same DATA_DIR in one line',
    async () => {
      const second = await runServerToExit(target.env);
      expect(expectOneLineFailure(second)).toMatch(/^gatehouse: the embedded database in .* is held by another Gatehouse process \(pid \d+\)/);
      // The first one still serves.
      expect((await fetch(`${server.baseUrl}/readyz`)).status).toBe(200);
    },
    SLOW,
  );
});
