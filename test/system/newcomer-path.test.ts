import { decodeJwt } from 'jose';
import { confirmClick, describeWithChromium, launchBrowser, screenshot, signIn, type Browser } from '../helpers/browser.js';
import { PROCESS_TEST_TIMEOUT_MS, runCli, startServerProcess, type ServerProcess } from '../helpers/process.js';
import { embeddedTarget, type ProcessTarget } from '../helpers/targets.js';

/**
 * The newcomer's path of the README, on the embedded database, without ever stopping the server:
 * `npm start`; an admin client bootstrapped with the CLI against the running server, and its token;
 * a client and a user created with the CLI; a token; the session revoked in the admin console in
 * Chromium; the refresh token then invalid_grant. No secret in the server's log.
 */

const SLOW = 3 * PROCESS_TEST_TIMEOUT_MS;

describeWithChromium('the newcomer path, the server running throughout (embedded database)', () => {
  let target: ProcessTarget;
  let server: ServerProcess;
  let browser: Browser;

  beforeAll(async () => {
    target = embeddedTarget();
    server = await startServerProcess({ ...target.env, LOG_LEVEL: 'info' });
  }, SLOW);
  afterAll(async () => {
    await browser?.close();
    await server?.stop();
    await target?.dispose();
  }, SLOW);

  const gatehouse = async (args: string[], input?: string): Promise<string> => {
    const result = await runCli(args, { env: target.env, input });
    expect({ code: result.code, stderr: result.stderr }).toEqual({ code: 0, stderr: '' });
    return result.stdout;
  };
  const token = async (clientId: string, secret: string, form: Record<string, string>) => {
    const response = await fetch(`${server.baseUrl}/token`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded', Authorization: `Basic ${Buffer.from(`${clientId}:${secret}`).toString('base64')}` },
      body: new URLSearchParams(form),
    });
    return { status: response.status, body: (await response.json()) as Record<string, string> };
  };

  it(
    'bootstraps an admin, creates a client and a user, gets a token, and revokes the session in the console',
    async () => {
      // 1. An admin client, created against the running server, and its token at the admin API.
      const admin = JSON.parse(
        await gatehouse([
          'client',
          'create',
          '--id',
          'admin-cli',
          '--grants',
          'client_credentials',
          '--scopes',
          'admin:clients admin:users admin:tokens admin:keys',
          '--json',
        ]),
      );
      const adminToken = await token('admin-cli', admin.client_secret, { grant_type: 'client_credentials' });
      expect(adminToken.status).toBe(200);
      const users = await fetch(`${server.baseUrl}/admin/users`, { headers: { Authorization: `Bearer ${adminToken.body.access_token}` } });
      expect(users.status).toBe(200);

      // 2. The application's client, a user, and a person who administers through the console.
      const app = JSON.parse(await gatehouse(['client', 'create', '--id', 'app', '--grants', 'password,refresh_token', '--scopes', 'read write', '--json']));
      await gatehouse(['user', 'create', '--username', 'alice', '--password-stdin', '--scopes', 'read'], 'correct horse');
      await gatehouse(['user', 'create', '--username', 'ada', '--password-stdin', '--scopes', 'admin:users admin:tokens'], 'ada admin password');

      // 3. Alice's token.
      const alice = await token('app', app.client_secret, { grant_type: 'password', username: 'alice', password: 'correct horse' });
      expect(alice).toMatchObject({ status: 200, body: { scope: 'read', token_type: 'Bearer' } });
      const grantId = decodeJwt(alice.body.access_token as string).sid as string;

      // 4. Ada revokes that session in the console.
      browser = await launchBrowser();
      const page = await browser.context.newPage();
      await page.goto(`${server.baseUrl}/console`);
      await signIn(page, { username: 'ada', password: 'ada admin password' });
      await page.getByRole('link', { name: 'Users', exact: true }).click();
      await page.getByRole('searchbox', { name: 'Search users' }).fill('alice');
      await page.getByRole('searchbox', { name: 'Search users' }).press('Enter');
      await page.getByRole('link', { name: 'alice', exact: true }).click();
      const sessions = page.getByRole('table', { name: /Active sessions of alice/ });
      await sessions.getByRole('row').filter({ hasText: grantId }).waitFor();
      await screenshot(page, 'newcomer-session');
      await confirmClick(page, sessions.getByRole('row').filter({ hasText: grantId }).getByRole('button', { name: 'Revoke session' }));
      await page
        .getByRole('status')
        .filter({ hasText: /Revoked the session/ })
        .waitFor();

      // 5. The refresh token is dead.
      const refreshed = await token('app', app.client_secret, { grant_type: 'refresh_token', refresh_token: alice.body.refresh_token as string });
      expect({ status: refreshed.status, error: refreshed.body.error }).toEqual({ status: 400, error: 'invalid_grant' });

      // No secret ever reached the server's log.
      const log = server.stdout() + server.stderr();
      for (const secret of [admin.client_secret, app.client_secret, 'correct horse', 'ada admin password', alice.body.refresh_token])
        expect(log).not.toContain(secret);
      expect(log).toMatch(/"command":"user create","code":0/);
    },
    SLOW,
  );
});
