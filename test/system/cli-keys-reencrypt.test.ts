import { kidsOf } from '../helpers/keys.js';
import { PROCESS_TEST_TIMEOUT_MS, runCli, startServerProcess, type ServerProcess } from '../helpers/process.js';
import { describeEachTarget, type ProcessTarget } from '../helpers/targets.js';

// The compiled CLI and server on each kind of database (embedded DATA_DIR, and PostgreSQL when
// TEST_DATABASE_URL is set), with secrets of the test's own.
const OLD_SECRET = 'old-key-encryption-secret-0123456789abcdef';
const NEW_SECRET = 'new-key-encryption-secret-fedcba9876543210';

function parse(stdout: string): Record<string, unknown> {
  return JSON.parse(stdout) as Record<string, unknown>;
}

describeEachTarget('gatehouse keys reencrypt --old-secret-stdin, then keys rotate --revoke-old and the server under the new secret, on $name', ({ create }) => {
  let target: ProcessTarget;
  let location: Record<string, string>;
  let server: ServerProcess | undefined;

  beforeAll(async () => {
    target = await create();
    // Each step names its own secret; warnings on, so one would spoil the JSON on stdout.
    location = { ...target.env, LOG_LEVEL: 'warn' };
    delete location.KEY_ENCRYPTION_SECRET;
  });
  afterAll(async () => {
    await server?.stop();
    await target?.dispose();
  });

  it(
    'moves every key to the new secret; the CLI and the server then work with it, and the revoked kid is not published',
    async () => {
      const created = await runCli(['keys', 'rotate', '--json'], { env: { ...location, KEY_ENCRYPTION_SECRET: OLD_SECRET } });
      expect({ code: created.code, stderr: created.stderr }).toEqual({ code: 0, stderr: '' });
      const first = parse(created.stdout) as { current: string; next: string };

      const reencrypted = await runCli(['keys', 'reencrypt', '--old-secret-stdin', '--json'], {
        env: { ...location, KEY_ENCRYPTION_SECRET: NEW_SECRET },
        input: `${OLD_SECRET}\n`,
      });
      expect({ code: reencrypted.code, stderr: reencrypted.stderr, result: parse(reencrypted.stdout) }).toEqual({
        code: 0,
        stderr: '',
        result: { reencrypted: 2, unchanged: 0 },
      });

      // Compromise procedure under the new secret: the old current key is removed at once.
      const revoked = await runCli(['keys', 'rotate', '--revoke-old', '--json'], { env: { ...location, KEY_ENCRYPTION_SECRET: NEW_SECRET } });
      expect({ code: revoked.code, stderr: revoked.stderr }).toEqual({ code: 0, stderr: '' });
      const second = parse(revoked.stdout) as { current: string; next: string };
      expect(second.current).toBe(first.next);

      server = await startServerProcess({ ...location, KEY_ENCRYPTION_SECRET: NEW_SECRET });
      const jwks = (await (await fetch(`${server.baseUrl}/.well-known/jwks.json`)).json()) as { keys: { kid: string }[] };
      expect(kidsOf(jwks)).toEqual([second.current, second.next].sort());
      expect(kidsOf(jwks)).not.toContain(first.current);
    },
    PROCESS_TEST_TIMEOUT_MS,
  );
});
