import { describeWithPostgres } from '../helpers/database.js';
import { PROCESS_TEST_TIMEOUT_MS, startServerProcess, type ServerProcess } from '../helpers/process.js';
import { postgresTarget, type ProcessTarget } from '../helpers/targets.js';

/**
 * Without METRICS_TOKEN, /metrics is open (the contract lists it as public). The server says so once,
 * at start, when HOST lets other machines reach it; not on loopback, not with a token, and once for
 * all workers. Likewise for an ISSUER left at its default (http://localhost:$PORT) on such a HOST.
 */

const TOKEN = 'metrics-token-for-the-process-test-0123456789';

let target: ProcessTarget;

/**
 * Starts the real server, waits until every worker has logged that it listens (a worker logs
 * anything it would at start before that), stops it with SIGTERM; returns its warnings.
 */
async function warningsAtStart(
  env: Record<string, string>,
  check?: (server: ServerProcess) => Promise<void>,
  options: { defaultIssuer?: boolean; about?: RegExp } = {},
): Promise<{ msg: string; host?: string }[]> {
  const server = await startServerProcess({ ...target.env, LOG_LEVEL: 'info', ...env }, { defaultIssuer: options.defaultIssuer });
  try {
    await check?.(server);
    await server.waitForLogLines(/"msg":"gatehouse listening"/, Number(env.WEB_CONCURRENCY ?? 1));
  } finally {
    server.child.kill('SIGTERM');
    await Promise.race([server.exited, new Promise((resolve) => setTimeout(resolve, 15_000))]);
    await server.kill();
  }
  const lines = server
    .stdout()
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as { level: number; msg: string; host?: string });
  return lines.filter((line) => line.level === 40 && (options.about ?? /METRICS_TOKEN/).test(line.msg));
}

const BOTH = /METRICS_TOKEN|^ISSUER is not set while HOST is not a loopback address/;

describeWithPostgres('the warnings about an open /metrics and a defaulted ISSUER', () => {
  beforeAll(async () => {
    target = await postgresTarget();
  }, PROCESS_TEST_TIMEOUT_MS);
  afterAll(() => target?.dispose());

  it(
    'is logged once when HOST is not a loopback address and METRICS_TOKEN is unset (and ISSUER, when defaulted)',
    async () => {
      // ISSUER left at its default too: that gets its own warning.
      expect(await warningsAtStart({ HOST: '0.0.0.0' }, undefined, { defaultIssuer: true, about: BOTH })).toEqual([
        expect.objectContaining({ host: '0.0.0.0', msg: expect.stringMatching(/METRICS_TOKEN/) }),
        expect.objectContaining({
          host: '0.0.0.0',
          issuer: expect.stringMatching(/^http:\/\/localhost:\d+$/),
          msg: expect.stringMatching(/^ISSUER is not set/),
        }),
      ]);
    },
    PROCESS_TEST_TIMEOUT_MS,
  );

  it(
    'is logged once, not once per worker, with WEB_CONCURRENCY=2',
    async () => {
      expect(await warningsAtStart({ HOST: '0.0.0.0', WEB_CONCURRENCY: '2' })).toHaveLength(1);
    },
    PROCESS_TEST_TIMEOUT_MS,
  );

  it(
    'is not logged on a loopback address, nor the defaulted ISSUER',
    async () => {
      expect(await warningsAtStart({ HOST: '127.0.0.1' }, undefined, { defaultIssuer: true, about: BOTH })).toEqual([]);
    },
    PROCESS_TEST_TIMEOUT_MS,
  );

  it(
    'is not logged with METRICS_TOKEN set, and the running server then requires the token',
    async () => {
      const warnings = await warningsAtStart({ HOST: '0.0.0.0', METRICS_TOKEN: TOKEN }, async (server) => {
        expect((await fetch(`${server.baseUrl}/metrics`)).status).toBe(401);
        expect((await fetch(`${server.baseUrl}/metrics`, { headers: { Authorization: `Bearer ${TOKEN}` } })).status).toBe(200);
      });
      expect(warnings).toEqual([]);
    },
    PROCESS_TEST_TIMEOUT_MS,
  );
});
