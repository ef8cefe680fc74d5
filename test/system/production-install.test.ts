import { spawn, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { jest } from '@jest/globals';
import { freePort, REPO_ROOT } from '../helpers/process.js';
import { postTokenTo } from '../helpers/token.js';

/**
 * The production install, as the Dockerfile runs it: the tracked files in a clean directory,
 * `npm ci --omit=dev` (which builds dist/ through `prepare`, without the dev dependencies), then
 * `npm start`. The server answers /readyz and serves the console from dist/, the CLI creates a
 * client in the running server, and that client gets a token. npm takes packages from its cache
 * (--prefer-offline), as CI's own `npm ci` left it. One install, one start: the slowest test here.
 */

const INSTALL_TIMEOUT_MS = 240_000;
jest.setTimeout(INSTALL_TIMEOUT_MS + 120_000);

/** The files a clone has: tracked ones and new ones not ignored (a change not yet committed). */
function copyCheckout(to: string): void {
  const listed = spawnSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], { cwd: REPO_ROOT, encoding: 'utf8' });
  if (listed.status !== 0) throw new Error(`git ls-files failed: ${listed.stderr}`);
  for (const file of listed.stdout.split('\0').filter((name) => name !== '' && existsSync(join(REPO_ROOT, name)))) {
    mkdirSync(dirname(join(to, file)), { recursive: true });
    cpSync(join(REPO_ROOT, file), join(to, file));
  }
}

/** npm with only PATH and HOME (its cache) from this environment: nothing of the test's leaks in. */
function npmEnvironment(extra: Record<string, string> = {}): Record<string, string> {
  return { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...extra };
}

describe('a production install in a clean directory (the Dockerfile steps)', () => {
  let root: string;
  let server: ReturnType<typeof spawn> | undefined;

  beforeAll(() => {
    root = mkdtempSync(join(tmpdir(), 'gatehouse-install-'));
    copyCheckout(root);
  });

  afterAll(async () => {
    if (server?.pid && server.exitCode === null) {
      const exited = new Promise((done) => server?.once('exit', done));
      process.kill(-server.pid, 'SIGTERM');
      await exited;
    } else if (server?.pid) {
      // npm is gone; a server it left behind is still in its process group.
      try {
        process.kill(-server.pid, 'SIGKILL');
      } catch {
        // Nothing left.
      }
    }
    rmSync(root, { recursive: true, force: true });
  });

  it('npm ci --omit=dev builds dist/, and npm start serves: /readyz, the console, a client created by the CLI gets a token', async () => {
    const install = spawnSync('npm', ['ci', '--omit=dev', '--prefer-offline', '--no-audit', '--no-fund'], {
      cwd: root,
      env: npmEnvironment(),
      encoding: 'utf8',
      timeout: INSTALL_TIMEOUT_MS,
    });
    expect({ status: install.status, stderr: install.status === 0 ? '' : install.stderr }).toEqual({ status: 0, stderr: '' });
    // No dev dependency was installed, yet dist/ holds the server and the console's files.
    expect(existsSync(join(root, 'node_modules', 'jest'))).toBe(false);
    expect(existsSync(join(root, 'node_modules', '@types', 'koa'))).toBe(false);
    expect(existsSync(join(root, 'dist', 'src', 'main.js'))).toBe(true);
    expect(existsSync(join(root, 'dist', 'src', 'console', 'assets', 'index.html'))).toBe(true);
    // The image has no source tree: the console must be found in dist/.
    rmSync(join(root, 'src'), { recursive: true });

    const port = await freePort();
    const baseUrl = `http://127.0.0.1:${port}`;
    const env = npmEnvironment({
      NODE_ENV: 'production',
      PORT: String(port),
      HOST: '127.0.0.1',
      ISSUER: baseUrl,
      DATA_DIR: join(root, 'data'),
      LOG_LEVEL: 'warn',
    });
    server = spawn('npm', ['start'], { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    let output = '';
    server.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    server.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const deadline = Date.now() + 60_000;
    for (;;) {
      if (server.exitCode !== null) throw new Error(`npm start exited: ${output}`);
      const ready = await fetch(`${baseUrl}/readyz`).catch(() => undefined);
      if (ready?.status === 200) break;
      if (Date.now() > deadline) throw new Error(`not ready within 60 s: ${output}`);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }

    const page = await fetch(`${baseUrl}/console/`);
    expect(page.status).toBe(200);
    expect(await page.text()).toMatch(/<html/i);

    // The installed CLI, against the running server (over its socket in DATA_DIR).
    const created = spawnSync(
      process.execPath,
      [join(root, 'bin', 'gatehouse.js'), 'client', 'create', '--id', 'service', '--grants', 'client_credentials', '--scopes', 'reports', '--json'],
      { cwd: root, env, encoding: 'utf8', timeout: 60_000 },
    );
    expect({ status: created.status, stderr: created.stderr }).toEqual({ status: 0, stderr: '' });
    const { client_id: clientId, client_secret: clientSecret } = JSON.parse(created.stdout);
    const token = await postTokenTo(baseUrl, { grant_type: 'client_credentials' }, { basic: [clientId, clientSecret] });
    expect(token).toMatchObject({ status: 200, body: { token_type: 'Bearer', scope: 'reports' } });

    // A supervisor signals npm alone, not its process group: the server itself must stop (npm
    // passes SIGTERM to its child, which must be the server, not a shell that would die and leave
    // the server running), and npm exits 0 once the server has shut down cleanly.
    const exited = new Promise<number | null>((done) => server?.once('exit', (code) => done(code)));
    process.kill(server.pid as number, 'SIGTERM');
    expect(await exited).toBe(0);
    expect(
      await fetch(`${baseUrl}/healthz`).then(
        (answer) => answer.status,
        () => 'closed',
      ),
    ).toBe('closed');
  });
});
