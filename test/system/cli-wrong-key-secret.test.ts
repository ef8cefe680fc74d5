import { expectOneLineFailure, PROCESS_TEST_TIMEOUT_MS, runCli, runServerToExit, type ProcessResult } from '../helpers/process.js';
import { describeEachTarget, type ProcessTarget } from '../helpers/targets.js';

// The compiled CLI and server on each kind of database (embedded DATA_DIR, and PostgreSQL when
// TEST_DATABASE_URL is set), with secrets of the test's own.
const RIGHT_SECRET = 'right-key-encryption-secret-0123456789abcd';
const WRONG_SECRET = 'wrong-key-encryption-secret-0123456789abcd';

/** Exit code non-zero, nothing on stdout, and exactly one line on stderr, that matches and has no stack trace. */
function expectRefusal(result: ProcessResult, message: RegExp): void {
  expect(expectOneLineFailure(result)).toMatch(message);
  expect(result.stderr).not.toMatch(/\n\s+at /);
}

describeEachTarget('a wrong KEY_ENCRYPTION_SECRET fails with one clear line, at server start and in the CLI, on $name', ({ create }) => {
  let target: ProcessTarget;
  let location: Record<string, string>;

  beforeAll(async () => {
    target = await create();
    // Each step names its own secret; warnings on, as a server or CLI would run.
    location = { ...target.env, LOG_LEVEL: 'warn' };
    delete location.KEY_ENCRYPTION_SECRET;
  });
  afterAll(() => target?.dispose());

  it(
    'creates the keys under the right secret',
    async () => {
      const created = await runCli(['keys', 'rotate', '--json'], { env: { ...location, KEY_ENCRYPTION_SECRET: RIGHT_SECRET } });
      expect({ code: created.code, stderr: created.stderr }).toEqual({ code: 0, stderr: '' });
    },
    PROCESS_TEST_TIMEOUT_MS,
  );

  it(
    'server start: exits non-zero naming KEY_ENCRYPTION_SECRET, without a stack trace',
    async () => {
      const started = await runServerToExit({ ...location, KEY_ENCRYPTION_SECRET: WRONG_SECRET, LOG_LEVEL: 'info' });
      expectRefusal(started, /^gatehouse: KEY_ENCRYPTION_SECRET does not decrypt the stored signing keys/);
    },
    PROCESS_TEST_TIMEOUT_MS,
  );

  // (keys rotate under a wrong secret, and a repeated reencrypt, are covered in-process by
  // encryption-at-rest.test.ts; each CLI start here costs seconds.)
  it(
    'keys reencrypt: an old secret that opens nothing is refused, in one line',
    async () => {
      const refused = await runCli(['keys', 'reencrypt', '--old-secret-stdin'], {
        env: { ...location, KEY_ENCRYPTION_SECRET: `${WRONG_SECRET}-x` },
        input: WRONG_SECRET,
      });
      expectRefusal(refused, /^gatehouse: neither the old secret \(standard input\) nor KEY_ENCRYPTION_SECRET decrypts signing key/);
    },
    PROCESS_TEST_TIMEOUT_MS,
  );
});
