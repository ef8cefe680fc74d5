import { createServer, request as httpRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { decodeJwt } from 'jose';
import { jest } from '@jest/globals';
import type { Page, Response as BrowserResponse } from 'playwright-core';
import { CONSOLE_CLIENT_ID, ensureConsoleClient } from '../../src/console/console-client.js';
import { confirmClick, describeWithChromium, eventually, launchBrowser, screenshot, signIn, type Browser } from '../helpers/browser.js';
import { TestClock } from '../helpers/clock.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { adminToken, introspector, passwordTokens, postToken, refresh, type TokenBody } from '../helpers/token.js';

/**
 * The admin console in a real browser (Debian's Chromium through playwright-core), against a
 * Gatehouse listening on a loopback port. Controls are found by their accessible names, as the
 * contract fixes them; every wait is on an element or an event, bounded.
 */

describeWithChromium('the admin console in a real browser', () => {
  jest.setTimeout(180_000);

  const ADMIN_SCOPES = ['admin:tokens', 'admin:keys', 'admin:clients', 'admin:users'];

  let server: TestServer;
  let clock: TestClock;
  let browser: Browser;
  let root: string;
  let ask: Awaited<ReturnType<typeof introspector>>;
  let app: { clientId: string; clientSecret: string | null };
  let ada: { id: string; username: string; password: string };
  let alice: { id: string; username: string; password: string };

  /** Problems the page reported: CSP violations, script errors, requests to another origin. */
  const pageProblems: string[] = [];

  beforeAll(async () => {
    clock = new TestClock();
    server = await startTestServer({ clock });
    expect(await ensureConsoleClient(server.deps)).toBe('created');
    ask = await introspector(server);
    root = `Bearer ${await adminToken(server, ADMIN_SCOPES, 'root-admin')}`;
    app = await server.createClient({ id: 'app', grantTypes: ['password', 'refresh_token'], scopes: ['read', 'write'] });
    ada = await server.createUser({ username: 'ada', password: 'ada admin password', scopes: [...ADMIN_SCOPES] });
    alice = await server.createUser({ username: 'alice', password: 'alice password', scopes: ['read', 'write'] });
    await server.createUser({ username: 'bob', password: 'bob password', scopes: ['read'] });
    await server.createUser({ username: 'hal', password: 'hal helpdesk password', scopes: ['admin:tokens', 'read'] });
    browser = await launchBrowser();
  });

  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  afterEach(() => {
    // Collected over each test's pages; a problem fails the test that caused it.
    const problems = pageProblems.splice(0);
    expect(problems).toEqual([]);
  });

  /** A fresh tab on the console at `url`, watched for CSP violations, errors and foreign requests. */
  async function openConsole(url = `${server.baseUrl}/console`): Promise<Page> {
    const page = await browser.context.newPage();
    const origin = new URL(url).origin;
    page.on('console', (message) => {
      if (message.type() === 'error' && !/Failed to load resource: the server responded with a status of (400|401|403)/.test(message.text()))
        pageProblems.push(`console: ${message.text()}`);
    });
    page.on('pageerror', (error) => pageProblems.push(`page error: ${error.message}`));
    page.on('request', (request) => {
      if (!request.url().startsWith(`${origin}/`) && !request.url().startsWith('data:')) pageProblems.push(`request to another origin: ${request.url()}`);
    });
    await page.goto(url);
    return page;
  }

  async function signedInAs(user: { username: string; password: string }, url?: string): Promise<Page> {
    const page = await openConsole(url);
    await signIn(page, user);
    await page.getByRole('button', { name: 'Sign out', exact: true }).waitFor();
    return page;
  }

  async function statusText(page: Page, expected: RegExp): Promise<string> {
    const status = page.getByRole('status').filter({ hasText: expected });
    await status.waitFor();
    return status.innerText();
  }

  describe('signing in', () => {
    it('lets a user holding admin scopes in, and shows the areas of those scopes', async () => {
      const page = await signedInAs(ada);
      for (const name of ['Users', 'Clients', 'Keys', 'Audit log']) await page.getByRole('link', { name, exact: true }).waitFor();
      await page.getByRole('heading', { name: 'Users', level: 1 }).waitFor();
      await page.close();
    });

    it('refuses a user without admin scopes with an alert, although the password is right', async () => {
      const page = await openConsole();
      await signIn(page, { username: 'bob', password: 'bob password' });
      const alert = page.getByRole('alert');
      await alert.waitFor();
      expect(await alert.innerText()).toMatch(/no admin scopes/);
      expect(await page.getByRole('navigation').count()).toBe(0);
      expect(await page.getByRole('link', { name: 'Users' }).count()).toBe(0);
      expect(await page.getByRole('button', { name: 'Sign out', exact: true }).count()).toBe(0);
      await screenshot(page, 'sign-in-refused');

      await signIn(page, { username: 'bob', password: 'not his password' });
      await page
        .getByRole('alert')
        .filter({ hasText: /wrong username or password/ })
        .waitFor();
      await page.close();
    });
  });

  describe('revoking the session of a stolen laptop', () => {
    let laptop: TokenBody;
    let phone: TokenBody;

    beforeAll(async () => {
      laptop = await passwordTokens(server, app, alice);
      phone = await passwordTokens(server, app, alice);
    });

    it('finds the user, revokes one session: its refresh token is invalid_grant and its access token inactive', async () => {
      const page = await signedInAs(ada);
      await page.getByRole('link', { name: 'Users', exact: true }).click();
      await page.getByRole('searchbox', { name: 'Search users' }).fill('ali');
      await page.getByRole('searchbox', { name: 'Search users' }).press('Enter');
      await page.getByRole('table', { name: /Users matching/ }).waitFor();
      await screenshot(page, 'users');
      await page.getByRole('link', { name: 'alice', exact: true }).click();

      const sessions = page.getByRole('table', { name: /Active sessions of alice/ });
      await sessions.waitFor();
      const laptopGrant = decodeJwt(laptop.access_token).sid as string;
      const phoneGrant = decodeJwt(phone.access_token).sid as string;
      await eventually(async () => expect(await sessions.getByRole('row').count()).toBe(3));
      await screenshot(page, 'user');

      const laptopRow = sessions.getByRole('row').filter({ hasText: laptopGrant });
      await confirmClick(page, laptopRow.getByRole('button', { name: 'Revoke session' }));
      expect(await statusText(page, /Revoked the session/)).toContain(laptopGrant);
      // The page renders the list again after a revocation: wait for the new list (header and the
      // phone's row), not for the moment between the old one going and the new one coming.
      await eventually(async () => {
        expect(await sessions.getByRole('row').count()).toBe(2);
        expect(await sessions.getByRole('row').filter({ hasText: phoneGrant }).count()).toBe(1);
      });
      expect(await sessions.getByRole('row').filter({ hasText: laptopGrant }).count()).toBe(0);

      expectOAuthErrorCode(await refresh(server, app, laptop.refresh_token as string), 'invalid_grant');
      expect((await ask(laptop.access_token)).body).toEqual({ active: false });
      expect((await ask(phone.access_token)).body.active).toBe(true);

      // The console is just another client: the audit log names the person and the console.
      const audit = await server.http.get('/admin/audit').query({ target: laptopGrant }).set('Authorization', root);
      expect(audit.body.items).toEqual([
        expect.objectContaining({ action: 'grants.revoke', actor: { type: 'user', id: ada.id, client_id: CONSOLE_CLIENT_ID, username: 'ada' }, count: 1 }),
      ]);
      await page.close();
    });

    it('signs the user out everywhere', async () => {
      // The address of a user's page works as a link: the console opens it once signed in.
      const page = await signedInAs(ada, `${server.baseUrl}/console#/users/${alice.id}`);
      await page.getByRole('table', { name: /Active sessions of alice/ }).waitFor();
      await confirmClick(page, page.getByRole('button', { name: 'Sign out everywhere' }));
      expect(await statusText(page, /Signed alice out everywhere/)).toMatch(/1 session ended/);
      await page.getByText('No active sessions.').waitFor();
      expectOAuthErrorCode(await refresh(server, app, phone.refresh_token as string), 'invalid_grant');
      expect((await ask(phone.access_token)).body).toEqual({ active: false });
      await page.close();
    });
  });

  function expectOAuthErrorCode(response: { status: number; body: { error?: string } }, error: string): void {
    expect({ status: response.status, error: response.body.error }).toEqual({ status: 400, error });
  }

  describe('the pages', () => {
    it('Users: creates a user, disables them, sets a new password and deletes them', async () => {
      const page = await signedInAs(ada);
      await page.getByLabel('New username').fill('carol');
      await page.getByLabel('Initial password').fill('carol first password');
      await page.getByLabel('Email', { exact: true }).fill('carol@example.com');
      await page.getByLabel('Scopes', { exact: true }).fill('read');
      await page.getByRole('button', { name: 'Create user' }).click();
      await statusText(page, /Created the user carol/);
      await page.getByRole('heading', { name: 'carol', level: 1 }).waitFor();

      const carol = (await server.http.get('/admin/users').query({ search: 'carol' }).set('Authorization', root)).body.items[0];
      const session = await passwordTokens(server, app, { username: 'carol', password: 'carol first password' });
      await confirmClick(page, page.getByRole('button', { name: 'Disable user' }));
      expect(await statusText(page, /Disabled carol/)).toMatch(/1 session ended/);
      expect((await ask(session.access_token)).body).toEqual({ active: false });
      await page.getByRole('button', { name: 'Enable user' }).click();
      await statusText(page, /Enabled carol/);

      await page.getByLabel('New password').fill('carol second password');
      await confirmClick(page, page.getByRole('button', { name: 'Set password' }));
      await statusText(page, /Set a new password for carol/);
      expect(
        (
          await postToken(
            server,
            { grant_type: 'password', username: 'carol', password: 'carol second password' },
            { basic: [app.clientId, app.clientSecret as string] },
          )
        ).status,
      ).toBe(200);

      await confirmClick(page, page.getByRole('button', { name: 'Delete user' }));
      await statusText(page, /Deleted the user carol/);
      await page.getByRole('heading', { name: 'Users', level: 1 }).waitFor();
      expect((await server.http.get(`/admin/users/${carol.id}`).set('Authorization', root)).status).toBe(404);
      await page.close();
    });

    it('Clients: registers a client, shows its secret once, deletes it', async () => {
      const page = await signedInAs(ada);
      await page.getByRole('link', { name: 'Clients', exact: true }).click();
      await page.getByRole('table', { name: 'Registered clients' }).waitFor();
      await page.getByLabel('Client id').fill('billing');
      await page.getByLabel('client_credentials').check();
      await page.getByLabel('Client scopes').fill('billing:read');
      await page.getByLabel('Require a DPoP proof on every token request').check();
      await page.getByRole('button', { name: 'Create client' }).click();
      await statusText(page, /Registered the client billing/);
      const secret = await page.getByLabel('Client secret').inputValue();
      expect(secret).toMatch(/^[A-Za-z0-9_-]{43}$/);
      // The secret shown is the real one: the client authenticates, and is then refused only for the
      // DPoP proof it was registered to need.
      const tokenAnswer = await postToken(server, { grant_type: 'client_credentials' }, { basic: ['billing', secret] });
      expect({ status: tokenAnswer.status, error: tokenAnswer.body.error }).toEqual({ status: 400, error: 'invalid_dpop_proof' });
      await page.getByRole('row').filter({ hasText: 'billing' }).filter({ hasText: 'DPoP required' }).first().waitFor();
      await screenshot(page, 'clients');

      // Shown once: gone when the page is shown again.
      await page.getByRole('link', { name: 'Keys', exact: true }).click();
      await page.getByRole('link', { name: 'Clients', exact: true }).click();
      await page.getByRole('table', { name: 'Registered clients' }).waitFor();
      expect(await page.getByLabel('Client secret').count()).toBe(0);
      expect(await page.content()).not.toContain(secret);

      const row = page.getByRole('row').filter({ has: page.getByText('billing', { exact: true }) });
      await confirmClick(page, row.getByRole('button', { name: 'Delete client' }));
      await statusText(page, /Deleted the client billing/);
      expect((await server.http.get('/admin/clients/billing').set('Authorization', root)).status).toBe(404);
      await page.close();
    });

    it('Resources: registers a resource and lists it', async () => {
      const page = await signedInAs(ada);
      await page.getByRole('link', { name: 'Resources', exact: true }).click();
      await page.getByRole('table', { name: 'Registered resources' }).waitFor();
      await page.getByLabel('Resource URI').fill('https://orders.example.com');
      await page.getByLabel('Resource scopes').fill('orders:read orders:write');
      await page.getByRole('button', { name: 'Register resource' }).click();
      await statusText(page, /Registered the resource https:\/\/orders\.example\.com/);
      await page.getByRole('row').filter({ hasText: 'orders:read orders:write' }).first().waitFor();
      const stored = await server.http.get(`/admin/resources/${encodeURIComponent('https://orders.example.com')}`).set('Authorization', root);
      expect(stored.body.scopes).toEqual(['orders:read', 'orders:write']);
      await page.close();
    });

    it('Keys: shows states, kids and the next rotation; rotates now', async () => {
      const before = (await server.http.get('/admin/keys').set('Authorization', root)).body;
      const next = before.items.find((key: { state: string }) => key.state === 'next').kid as string;
      const page = await signedInAs(ada);
      await page.getByRole('link', { name: 'Keys', exact: true }).click();
      const keys = page.getByRole('table', { name: 'Signing keys' });
      await keys.waitFor();
      for (const key of before.items) await keys.getByText(key.kid).waitFor();
      await page.getByText(/Next scheduled rotation/).waitFor();
      await screenshot(page, 'keys');

      await confirmClick(page, page.getByRole('button', { name: 'Rotate now' }));
      expect(await statusText(page, /Rotated the keys/)).toContain(`${next} now signs`);
      const after = (await server.http.get('/admin/keys').set('Authorization', root)).body;
      expect(after.items.find((key: { state: string }) => key.state === 'current').kid).toBe(next);
      await keys.getByRole('row').filter({ hasText: next }).filter({ hasText: 'current' }).waitFor();
      await page.close();
    });

    it('Audit log: filters by target, actor, action and time', async () => {
      const page = await signedInAs(ada);
      await page.getByRole('link', { name: 'Audit log', exact: true }).click();
      await page.getByRole('table', { name: 'Audit log entries' }).waitFor();
      await page.getByLabel('Target', { exact: true }).fill(alice.id);
      await page.getByLabel('Action', { exact: true }).selectOption('grants.revoke');
      await page.getByRole('button', { name: 'Filter', exact: true }).click();
      const entries = page.getByRole('table', { name: /matching the filters/ });
      await entries.waitFor();
      await eventually(async () => expect(await entries.getByRole('row').count()).toBe(2));
      expect(await entries.innerText()).toMatch(/ada via gatehouse-console/);
      await screenshot(page, 'audit');

      await page.getByRole('button', { name: 'Clear filters' }).click();
      await page.getByRole('table', { name: 'Audit log entries' }).waitFor();
      await page.getByLabel('Actor', { exact: true }).fill(ada.id);
      await page.getByLabel('From', { exact: true }).fill('2000-01-01T00:00');
      await page.getByLabel('To', { exact: true }).fill('2000-12-31T23:59');
      await page.getByRole('button', { name: 'Filter', exact: true }).click();
      await page.getByText('No entries.').waitFor();
      await page.close();
    });
  });

  describe('what the admin scopes do not cover is not shown', () => {
    it('a help desk holding admin:tokens alone finds sessions, and is refused clients and keys', async () => {
      const page = await signedInAs({ username: 'hal', password: 'hal helpdesk password' });
      await page.getByRole('link', { name: 'Users', exact: true }).waitFor();
      await page.getByRole('link', { name: 'Audit log', exact: true }).waitFor();
      expect(await page.getByRole('link', { name: 'Clients', exact: true }).count()).toBe(0);
      expect(await page.getByRole('link', { name: 'Keys', exact: true }).count()).toBe(0);

      const kids = (await server.http.get('/admin/keys').set('Authorization', root)).body.items.map((key: { kid: string }) => key.kid);
      await page.evaluate(() => (location.hash = '#/keys'));
      await page.getByText(/do not include admin:keys/).waitFor();
      const text = await page.locator('body').innerText();
      for (const kid of kids) expect(text).not.toContain(kid);

      await passwordTokens(server, app, alice);
      await page.getByRole('link', { name: 'Users', exact: true }).click();
      await page.getByRole('searchbox', { name: 'Search users' }).fill('alice');
      await page.getByRole('searchbox', { name: 'Search users' }).press('Enter');
      await page.getByRole('link', { name: 'alice', exact: true }).click();
      await page.getByRole('table', { name: /Active sessions of alice/ }).waitFor();
      await page.getByText(/do not include admin:users/).waitFor();
      expect(await page.getByRole('button', { name: 'Delete user' }).count()).toBe(0);
      await screenshot(page, 'user-helpdesk');
      await page.close();
    });
  });

  describe('tokens', () => {
    it('live in memory only, are refreshed once when the API says the access token expired, and are revoked at sign-out', async () => {
      const page = await openConsole();
      const tokenAnswers: TokenBody[] = [];
      const refreshRequests: string[] = [];
      page.on('request', (request) => {
        if (request.url().endsWith('/token') && /grant_type=refresh_token/.test(request.postData() ?? '')) refreshRequests.push(request.url());
      });
      page.on('response', (response: BrowserResponse) => {
        if (response.url().endsWith('/token') && response.status() === 200) void response.json().then((body: TokenBody) => tokenAnswers.push(body));
      });
      await signIn(page, ada);
      await page.getByRole('button', { name: 'Sign out', exact: true }).waitFor();
      await eventually(() => expect(tokenAnswers).toHaveLength(1));
      expect(tokenAnswers[0]?.scope.split(' ').sort()).toEqual([...ADMIN_SCOPES].sort());
      expect(await page.evaluate(() => [localStorage.length, sessionStorage.length, document.cookie])).toEqual([0, 0, '']);
      expect(await browser.context.cookies()).toEqual([]);

      // The server's clock passes the access token's expiry: the next calls (the user page makes two
      // at once) get 401, and the console refreshes once and carries on.
      clock.advance(server.deps.config.accessTokenTtl + 5);
      await page.evaluate((id) => (location.hash = `#/users/${id}`), alice.id);
      await page.getByRole('heading', { name: 'alice', level: 1 }).waitFor();
      await page.getByRole('heading', { name: 'Active sessions' }).waitFor();
      await eventually(() => expect(refreshRequests).toHaveLength(1));
      await eventually(() => expect(tokenAnswers).toHaveLength(2));
      const latest = tokenAnswers[1] as TokenBody;
      expect(latest.refresh_token).not.toBe(tokenAnswers[0]?.refresh_token);

      await page.getByRole('button', { name: 'Sign out', exact: true }).click();
      await statusText(page, /Signed out/);
      await page.getByRole('button', { name: 'Sign in' }).waitFor();
      expect(await page.locator('#view').innerText()).toBe('');
      expectOAuthErrorCode(await refresh(server, { clientId: CONSOLE_CLIENT_ID, clientSecret: null }, latest.refresh_token as string), 'invalid_grant');
      expect((await ask(latest.access_token)).body).toEqual({ active: false });
      await page.close();
    });
  });

  describe('refreshing ahead of expiry', () => {
    it("refreshes before a call once most of the access token's lifetime has passed, by the page's own clock", async () => {
      const page = await openConsole();
      const seen: string[] = [];
      page.on('response', (response: BrowserResponse) => {
        const path = new URL(response.url()).pathname;
        if (path === '/token' || path.startsWith('/admin/')) seen.push(`${response.request().method()} ${path} ${response.status()}`);
      });
      await page.clock.install();
      await signIn(page, ada);
      await page.getByRole('heading', { name: 'Users', level: 1 }).waitFor();
      await eventually(() => expect(seen).toEqual(['POST /token 200', 'GET /admin/users 200']));

      // 13 of the 15 minutes: the next call refreshes first, and never meets a 401.
      await page.clock.fastForward('13:00');
      await page.getByRole('link', { name: 'Keys', exact: true }).click();
      await page.getByRole('table', { name: 'Signing keys' }).waitFor();
      await eventually(() => expect(seen).toEqual(['POST /token 200', 'GET /admin/users 200', 'POST /token 200', 'GET /admin/keys 200']));
      await page.close();
    });
  });

  describe('any host name, any path prefix', () => {
    /** A reverse proxy that serves Gatehouse under /gatehouse/, as a load balancer might. */
    async function startPrefixProxy(): Promise<{ url: string; close(): Promise<void> }> {
      const target = new URL(server.baseUrl);
      const proxy: Server = createServer((incoming, outgoing) => {
        if (!incoming.url?.startsWith('/gatehouse/')) {
          outgoing.writeHead(404).end();
          return;
        }
        const forwarded = httpRequest(
          { hostname: target.hostname, port: target.port, path: incoming.url.slice('/gatehouse'.length), method: incoming.method, headers: incoming.headers },
          (answer) => {
            const headers = { ...answer.headers };
            if (typeof headers.location === 'string' && headers.location.startsWith('/')) headers.location = `/gatehouse${headers.location}`;
            outgoing.writeHead(answer.statusCode ?? 502, headers);
            answer.pipe(outgoing);
          },
        );
        forwarded.on('error', () => outgoing.writeHead(502).end());
        incoming.pipe(forwarded);
      });
      await new Promise<void>((resolveListen) => proxy.listen(0, '127.0.0.1', resolveListen));
      const { port } = proxy.address() as AddressInfo;
      return {
        url: `http://127.0.0.1:${port}/gatehouse/console`,
        close: () =>
          new Promise<void>((resolveClose) => {
            proxy.closeAllConnections();
            proxy.close(() => resolveClose());
          }),
      };
    }

    it('works at a host name other than the issuer’s, and behind a proxy under a path prefix', async () => {
      const byName = await signedInAs(ada, `${server.baseUrl.replace('127.0.0.1', 'localhost')}/console`);
      await byName.getByRole('link', { name: 'Keys', exact: true }).click();
      await byName.getByRole('table', { name: 'Signing keys' }).waitFor();
      await byName.close();

      const proxy = await startPrefixProxy();
      try {
        const prefixed = await signedInAs(ada, proxy.url);
        await prefixed.getByRole('link', { name: 'Keys', exact: true }).click();
        await prefixed.getByRole('table', { name: 'Signing keys' }).waitFor();
        await prefixed.getByRole('button', { name: 'Sign out', exact: true }).click();
        await statusText(prefixed, /Signed out/);
        await prefixed.close();
      } finally {
        await proxy.close();
      }
    });
  });
});
