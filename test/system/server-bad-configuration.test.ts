import { existsSync, rmSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { itWithPostgres, testDatabaseUrl } from '../helpers/database.js';
import { expectOneLineFailure, PROCESS_TEST_TIMEOUT_MS, runCli, runServerToExit } from '../helpers/process.js';

describe('the server refuses bad configuration at start, in one line naming the variable', () => {
  // Where the embedded databases of the listening cases would be: HOST and PORT are checked first.
  const hostDataDir = join(tmpdir(), `gatehouse-host-${process.pid}`);
  const portDataDir = join(tmpdir(), `gatehouse-port-${process.pid}`);
  afterAll(() => {
    for (const directory of [hostDataDir, portDataDir]) rmSync(directory, { recursive: true, force: true });
  });

  it.each([
    [{ PORT: 'abc' }, 'PORT'],
    [{ ACCESS_TOKEN_TTL: 'forever' }, 'ACCESS_TOKEN_TTL'],
    [{ DATABASE_URL: 'postgres://gatehouse@127.0.0.1:1/gatehouse' }, 'KEY_ENCRYPTION_SECRET'],
    // Settings that only fail when used: a directory that cannot be made (Node's own recursive
    // mkdir would loop forever below /proc).
    [{ DATA_DIR: '/dev/null/gatehouse' }, 'DATA_DIR'],
    [{ DATA_DIR: '/proc/gatehouse-data' }, 'DATA_DIR'],
  ])(
    'exits non-zero for %j',
    async (env, variable) => {
      const result = await runServerToExit(env);
      const line = expectOneLineFailure(result);
      expect(line).toContain(variable);
      expect(result.stdout).toBe('');
    },
    PROCESS_TEST_TIMEOUT_MS,
  );

  it(
    'refuses bad configuration in the CLI the same way',
    async () => {
      const line = expectOneLineFailure(await runCli(['migrate'], { env: { REFRESH_TOKEN_TTL: '-1d' } }));
      expect(line).toContain('REFRESH_TOKEN_TTL');
    },
    PROCESS_TEST_TIMEOUT_MS,
  );

  const secret = { KEY_ENCRYPTION_SECRET: 'a secret of more than thirty-two characters' };
  /** The server and the CLI both fail in one line naming DATABASE_URL, with no stack anywhere and nothing on the CLI's stdout. */
  async function expectDatabaseUrlNamed(databaseUrl: string, reason: RegExp): Promise<void> {
    const server = await runServerToExit({ DATABASE_URL: databaseUrl, ...secret });
    expect(expectOneLineFailure(server)).toMatch(/^gatehouse: DATABASE_URL: cannot use the database: /);
    expect(server.stderr).toMatch(reason);
    expect(server.stdout).not.toMatch(/\n\s+at /);
    const cli = await runCli(['client', 'list', '--json'], { env: { DATABASE_URL: databaseUrl, ...secret } });
    expect(expectOneLineFailure(cli)).toMatch(/^gatehouse: DATABASE_URL: cannot use the database: /);
    expect(cli.stderr).toMatch(reason);
    expect(cli.stdout).toBe('');
  }

  it(
    'names DATABASE_URL when nothing answers there',
    () => expectDatabaseUrlNamed('postgres://postgres@127.0.0.1:1/gatehouse', /ECONNREFUSED/),
    PROCESS_TEST_TIMEOUT_MS,
  );

  itWithPostgres(
    'names DATABASE_URL when its database does not exist',
    () => {
      const url = new URL(testDatabaseUrl as string);
      url.pathname = `/gatehouse_missing_${process.pid}`;
      return expectDatabaseUrlNamed(url.toString(), /does not exist/);
    },
    PROCESS_TEST_TIMEOUT_MS,
  );

  it(
    'names HOST when this machine has no such address, before it makes DATA_DIR',
    async () => {
      const line = expectOneLineFailure(await runServerToExit({ HOST: '192.0.2.1', DATA_DIR: hostDataDir }));
      expect(line).toMatch(/^gatehouse: HOST: cannot listen on 192\.0\.2\.1/);
      // Refused before the embedded database was made: nothing to clean up, no seconds spent on it.
      expect(existsSync(hostDataDir)).toBe(false);
    },
    PROCESS_TEST_TIMEOUT_MS,
  );

  it(
    'names PORT when the port is taken, before it makes DATA_DIR',
    async () => {
      const taken = createServer();
      await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
      try {
        const env = { HOST: '127.0.0.1', PORT: String((taken.address() as AddressInfo).port), DATA_DIR: portDataDir };
        const line = expectOneLineFailure(await runServerToExit(env));
        expect(line).toMatch(/^gatehouse: PORT: port \d+ on 127\.0\.0\.1 is in use/);
        expect(existsSync(portDataDir)).toBe(false);
      } finally {
        taken.close();
      }
    },
    PROCESS_TEST_TIMEOUT_MS,
  );
});
