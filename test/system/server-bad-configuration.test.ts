import { expectOneLineFailure, PROCESS_TEST_TIMEOUT_MS, runCli, runServerToExit } from '../helpers/process.js';

describe('the server refuses bad configuration at start, in one line naming the variable', () => {
  it.each([
    [{ PORT: 'abc' }, 'PORT'],
    [{ ACCESS_TOKEN_TTL: 'forever' }, 'ACCESS_TOKEN_TTL'],
    [{ DATABASE_URL: 'postgres://gatehouse@127.0.0.1:1/gatehouse' }, 'KEY_ENCRYPTION_SECRET'],
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
});
