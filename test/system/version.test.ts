import { readFileSync } from 'node:fs';
import { PROCESS_TEST_TIMEOUT_MS, REPO_ROOT, runCli } from '../helpers/process.js';

describe('gatehouse --version', () => {
  it(
    'prints the version of package.json and exits 0, without touching a database',
    async () => {
      const { version } = JSON.parse(readFileSync(`${REPO_ROOT}/package.json`, 'utf8')) as { version: string };
      for (const flag of ['--version', '-V']) {
        const result = await runCli([flag], { env: { DATA_DIR: '/nonexistent/gatehouse-version-test' } });
        expect(result).toEqual({ code: 0, stdout: `${version}\n`, stderr: '' });
      }
    },
    PROCESS_TEST_TIMEOUT_MS,
  );
});
