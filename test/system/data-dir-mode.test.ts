import { mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PROCESS_TEST_TIMEOUT_MS, runCli } from '../helpers/process.js';

/**
 * PGlite writes the files of the embedded database readable and writable by everyone: the mode of
 * DATA_DIR (0700) is what keeps other local users out, whether a CLI command or the server opens it first.
 */
describe('DATA_DIR is made private by whoever opens it first', () => {
  const parent = mkdtempSync(join(tmpdir(), 'gatehouse-mode-'));
  afterAll(() => rmSync(parent, { recursive: true, force: true }));

  it(
    'a CLI command on an existing DATA_DIR of mode 0755 leaves it 0700',
    async () => {
      const dataDir = join(parent, 'data');
      mkdirSync(dataDir, { mode: 0o755 });
      expect(statSync(dataDir).mode & 0o777).toBe(0o755);
      const listed = await runCli(['keys', 'list', '--json'], { env: { DATA_DIR: dataDir } });
      expect({ code: listed.code, stderr: listed.stderr }).toEqual({ code: 0, stderr: '' });
      expect(statSync(dataDir).mode & 0o777).toBe(0o700);
    },
    PROCESS_TEST_TIMEOUT_MS,
  );
});
