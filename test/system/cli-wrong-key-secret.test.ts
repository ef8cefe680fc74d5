import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createEmptyDatabase, testDatabaseUrl, type TestDatabase } from '../helpers/database.js';
import { PROCESS_TEST_TIMEOUT_MS, runCli, runServerToExit, type CliResult } from '../helpers/keys-support.js';

// The compiled CLI and server (`npm run build`), on a fresh PostgreSQL database when
// TEST_DATABASE_URL is set, otherwise on an embedded database in a temporary DATA_DIR.
const RIGHT_SECRET = 'right-key-encryption-secret-0123456789abcd';
const WRONG_SECRET = 'wrong-key-encryption-secret-0123456789abcd';

let database: TestDatabase | undefined;
let dataDir: string | undefined;
let location: Record<string, string>;

beforeAll(async () => {
  if (testDatabaseUrl) {
    database = await createEmptyDatabase();
    location = { DATABASE_URL: database.url! };
  } else {
    dataDir = mkdtempSync(join(tmpdir(), 'gatehouse-keys-'));
    location = { DATA_DIR: dataDir };
  }
});
afterAll(async () => {
  await database?.close();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

/** Exit code non-zero, nothing on stdout, and exactly one line on stderr that matches. */
function expectOneLineFailure(result: CliResult, message: RegExp): void {
  expect({ code: result.code === 0 ? 0 : 'non-zero', stdout: result.stdout, lines: result.stderr.split('\n').filter(Boolean).length }).toEqual({
    code: 'non-zero',
    stdout: '',
    lines: 1,
  });
  expect(result.code).not.toBeNull();
  expect(result.stderr).toMatch(message);
  expect(result.stderr).not.toMatch(/\n\s+at /);
}

describe('a wrong KEY_ENCRYPTION_SECRET fails with one clear line, at server start and in the CLI', () => {
  it('creates the keys under the right secret', async () => {
    const created = await runCli(['keys', 'rotate', '--json'], { ...location, KEY_ENCRYPTION_SECRET: RIGHT_SECRET });
    expect({ code: created.code, stderr: created.stderr }).toEqual({ code: 0, stderr: '' });
  }, PROCESS_TEST_TIMEOUT_MS);

  it('server start: exits non-zero naming KEY_ENCRYPTION_SECRET, without a stack trace', async () => {
    const started = await runServerToExit({ ...location, KEY_ENCRYPTION_SECRET: WRONG_SECRET, LOG_LEVEL: 'info' });
    expectOneLineFailure(started, /^gatehouse: KEY_ENCRYPTION_SECRET does not decrypt the stored signing keys/);
  }, PROCESS_TEST_TIMEOUT_MS);

  // (keys rotate under a wrong secret, and a repeated reencrypt, are covered in-process by
  // encryption-at-rest.test.ts; each CLI start here costs seconds.)
  it('keys reencrypt: an old secret that opens nothing is refused, in one line', async () => {
    const refused = await runCli(['keys', 'reencrypt', '--old-secret-stdin'], { ...location, KEY_ENCRYPTION_SECRET: `${WRONG_SECRET}-x` }, WRONG_SECRET);
    expectOneLineFailure(refused, /^gatehouse: neither the old secret \(standard input\) nor KEY_ENCRYPTION_SECRET decrypts signing key/);
  }, PROCESS_TEST_TIMEOUT_MS);
});
