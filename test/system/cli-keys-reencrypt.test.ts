import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createEmptyDatabase, testDatabaseUrl, type TestDatabase } from '../helpers/database.js';
import { kidsOf, PROCESS_TEST_TIMEOUT_MS, runCli, startServerProcess, type ServerProcess } from '../helpers/keys-support.js';

// The compiled CLI and server (`npm run build`), on a fresh PostgreSQL database when
// TEST_DATABASE_URL is set, otherwise on an embedded database in a temporary DATA_DIR.
const OLD_SECRET = 'old-key-encryption-secret-0123456789abcdef';
const NEW_SECRET = 'new-key-encryption-secret-fedcba9876543210';

let database: TestDatabase | undefined;
let dataDir: string | undefined;
let location: Record<string, string>;
let server: ServerProcess | undefined;

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
  await server?.stop();
  await database?.close();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

function parse(stdout: string): Record<string, unknown> {
  return JSON.parse(stdout) as Record<string, unknown>;
}

describe('gatehouse keys reencrypt --old-secret-stdin, then keys rotate --revoke-old and the server under the new secret', () => {
  it('moves every key to the new secret; the CLI and the server then work with it, and the revoked kid is not published', async () => {
    const created = await runCli(['keys', 'rotate', '--json'], { ...location, KEY_ENCRYPTION_SECRET: OLD_SECRET });
    expect({ code: created.code, stderr: created.stderr }).toEqual({ code: 0, stderr: '' });
    const first = parse(created.stdout) as { current: string; next: string };

    const reencrypted = await runCli(['keys', 'reencrypt', '--old-secret-stdin', '--json'], { ...location, KEY_ENCRYPTION_SECRET: NEW_SECRET }, `${OLD_SECRET}\n`);
    expect({ code: reencrypted.code, stderr: reencrypted.stderr, result: parse(reencrypted.stdout) }).toEqual({
      code: 0,
      stderr: '',
      result: { reencrypted: 2, unchanged: 0 },
    });

    // Compromise procedure under the new secret: the old current key is removed at once.
    const revoked = await runCli(['keys', 'rotate', '--revoke-old', '--json'], { ...location, KEY_ENCRYPTION_SECRET: NEW_SECRET });
    expect({ code: revoked.code, stderr: revoked.stderr }).toEqual({ code: 0, stderr: '' });
    const second = parse(revoked.stdout) as { current: string; next: string };
    expect(second.current).toBe(first.next);

    server = await startServerProcess({ ...location, KEY_ENCRYPTION_SECRET: NEW_SECRET });
    const jwks = (await (await fetch(`${server.url}/.well-known/jwks.json`)).json()) as { keys: { kid: string }[] };
    expect(kidsOf(jwks)).toEqual([second.current, second.next].sort());
    expect(kidsOf(jwks)).not.toContain(first.current);
  }, PROCESS_TEST_TIMEOUT_MS);
});
