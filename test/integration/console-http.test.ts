import { CONSOLE_CLIENT_ID, ensureConsoleClient } from '../../src/console/console-client.js';
import { CONSOLE_ASSETS, CONSOLE_CSP } from '../../src/console/endpoints.js';
import { AUDIT_ACTIONS } from '../../src/services/audit.js';
import { startTestServer, TEST_KEY_ENCRYPTION_SECRET, type TestServer } from '../helpers/server.js';
import { adminToken, expectOAuthError, postToken } from '../helpers/token.js';

/** The console over plain HTTP: what is served, with which headers, and the client it signs in with. */

let server: TestServer;
let auth: string;

beforeAll(async () => {
  server = await startTestServer();
  auth = `Bearer ${await adminToken(server, ['admin:tokens', 'admin:keys', 'admin:clients', 'admin:users'], 'root-admin')}`;
});
afterAll(() => server.close());

const STRICT_CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";
const FILES = Object.keys(CONSOLE_ASSETS).filter((name) => name !== 'index.html');

describe('GET /console serves the page with a strict Content-Security-Policy', () => {
  it('is HTML whose scripts and styles come from files of its own, revalidated on every use', async () => {
    const page = await server.http.get('/console');
    expect(page.status).toBe(200);
    expect(page.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(page.headers['content-security-policy']).toBe(STRICT_CSP);
    expect(CONSOLE_CSP).toBe(STRICT_CSP);
    expect(page.headers['cache-control']).toBe('no-cache');
    expect(page.headers['x-content-type-options']).toBe('nosniff');
    // A page gets helmet's headers for pages besides its own policy: isolated from other windows.
    expect(page.headers).toMatchObject({ 'cross-origin-opener-policy': 'same-origin', 'origin-agent-cluster': '?1', 'x-frame-options': 'SAMEORIGIN' });
    expect(page.headers.etag).toMatch(/^"[A-Za-z0-9_-]+"$/);
    const again = await server.http.get('/console').set('If-None-Match', page.headers.etag as string);
    expect(again.status).toBe(304);

    // Nothing inline that the policy would have to allow, and every reference relative to the page.
    expect(page.text).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/);
    expect(page.text).not.toMatch(/<style|\sstyle=|\son[a-z]+=|javascript:/i);
    const references = [...page.text.matchAll(/(?:src|href)="([^"]+)"/g)].map((match) => match[1] as string);
    expect(references).toEqual(expect.arrayContaining(['console/console.css', 'console/main.js']));
    for (const reference of references) expect(reference).toMatch(/^(console\/[\w.-]+|#\/[a-z]+|data:,)$/);
  });

  it('names its controls as the contract fixes them', async () => {
    const page = (await server.http.get('/console')).text;
    expect(page).toMatch(/<label for="sign-in-username">Username<\/label>/);
    expect(page).toMatch(/<label for="sign-in-password">Password<\/label>/);
    expect(page).toMatch(/<button type="submit">Sign in<\/button>/);
    expect(page).toMatch(/role="alert"/);
    for (const link of ['Users', 'Clients', 'Keys', 'Audit log']) expect(page).toContain(`>${link}</a>`);
    expect(page).toMatch(/<button[^>]*>Sign out<\/button>/);
    expect(page).toMatch(/<button value="confirm"[^>]*>Confirm<\/button>/);
  });

  it('sends /console/ to /console, where its relative URLs resolve', async () => {
    const trailing = await server.http.get('/console/');
    expect(trailing.status).toBe(302);
    expect(trailing.headers.location).toBe('../console');
  });
});

describe('the console files', () => {
  it('are served with their media types, the same policy, and 304 on a matching ETag', async () => {
    for (const name of FILES) {
      const response = await server.http
        .get(`/console/${name}`)
        .buffer(true)
        .parse((res, done) => {
          let text = '';
          res.setEncoding('utf8');
          res.on('data', (chunk: string) => (text += chunk));
          res.on('end', () => done(null, text));
        });
      expect({ name, status: response.status, type: response.headers['content-type'] }).toEqual({ name, status: 200, type: CONSOLE_ASSETS[name] });
      expect(response.headers['content-security-policy']).toBe(STRICT_CSP);
      expect(response.headers['cache-control']).toBe('no-cache');
      expect((response.body as string).length).toBeGreaterThan(100);
      const again = await server.http.get(`/console/${name}`).set('If-None-Match', response.headers.etag as string);
      expect({ name, status: again.status }).toEqual({ name, status: 304 });
    }
  });

  it("offer the audit log's actions as the server names them", async () => {
    const module = (await server.http.get('/console/audit-actions.js')).text;
    expect(JSON.parse(/^export const AUDIT_ACTIONS = (.*);$/m.exec(module)?.[1] ?? 'null')).toEqual([...AUDIT_ACTIONS]);
  });

  it('are exactly the modules the page imports, all relative: none missing, none from elsewhere', async () => {
    const imported = new Set<string>(['main.js']);
    for (const name of FILES.filter((file) => file.endsWith('.js'))) {
      const text = (await server.http.get(`/console/${name}`)).text;
      for (const match of text.matchAll(/\bfrom '([^']+)'/g)) {
        expect(match[1]).toMatch(/^\.\/[\w-]+\.js$/);
        imported.add((match[1] as string).slice(2));
      }
      const code = text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, '');
      // Requests go to the page's own origin: no absolute URL anywhere in the code.
      expect({ name, absolute: /https?:\/\/|\/\/[a-z]/i.test(code) }).toEqual({ name, absolute: false });
      // No markup from strings: text from the API goes into the page as text only.
      expect({ name, sinks: /innerHTML|outerHTML|insertAdjacentHTML|document\.write|eval\(|new Function/.test(code) }).toEqual({ name, sinks: false });
      expect({ name, storage: /localStorage|sessionStorage|document\.cookie|indexedDB/.test(code) }).toEqual({ name, storage: false });
    }
    expect([...imported].sort()).toEqual(FILES.filter((file) => file.endsWith('.js')).sort());
  });

  it('hold no secret', async () => {
    const texts = [(await server.http.get('/console')).text];
    for (const name of FILES) texts.push((await server.http.get(`/console/${name}`)).text);
    for (const text of texts) {
      expect(text).not.toContain(TEST_KEY_ENCRYPTION_SECRET);
      expect(text).not.toMatch(/eyJ[A-Za-z0-9_-]{10,}/);
      // Nothing that looks like a generated secret or token (43 base64url characters and more).
      expect(text).not.toMatch(/[A-Za-z0-9_-]{40,}/);
    }
  });

  it('answer 404 for anything not on the list', async () => {
    for (const path of [
      '/console/index.html',
      '/console/package.json',
      '/console/endpoints.ts',
      '/console/console-client.js',
      '/console/..%2Fconfig.ts',
      '/console/main.js.map',
      '/console/assets/main.js',
      '/console/MAIN.JS',
    ]) {
      const response = await server.http.get(path);
      expect({ path, status: response.status, error: response.body.error }).toEqual({ path, status: 404, error: 'not_found' });
    }
  });
});

describe("the console's client", () => {
  it('is created once at start, public, for the password grant and refresh tokens, audited as the system', async () => {
    expect(await ensureConsoleClient(server.deps)).toBe('created');
    expect(await ensureConsoleClient(server.deps)).toBe('exists');
    const client = await server.http.get(`/admin/clients/${CONSOLE_CLIENT_ID}`).set('Authorization', auth);
    expect(client.body).toMatchObject({
      client_id: 'gatehouse-console',
      public: true,
      grant_types: ['password', 'refresh_token'],
      scopes: ['admin:tokens', 'admin:keys', 'admin:clients', 'admin:users'],
      audience: null,
    });
    const audit = await server.http.get('/admin/audit').query({ target: CONSOLE_CLIENT_ID }).set('Authorization', auth);
    expect(audit.body.items).toEqual([
      expect.objectContaining({ action: 'client.create', actor: { type: 'system' }, details: { client_id: CONSOLE_CLIENT_ID } }),
    ]);
  });

  it("gives a user no more than the user's own admin scopes, and a user without one nothing", async () => {
    await ensureConsoleClient(server.deps);
    const keeper = await server.createUser({ username: 'keeper', scopes: ['admin:keys', 'read'] });
    const reader = await server.createUser({ username: 'reader', scopes: ['read', 'write'] });
    const console = { none: CONSOLE_CLIENT_ID };
    const granted = await postToken(server, { grant_type: 'password', username: keeper.username, password: keeper.password }, console);
    expect(granted.status).toBe(200);
    expect(granted.body.scope).toBe('admin:keys');
    expect(typeof granted.body.refresh_token).toBe('string');
    expect((await server.http.get('/admin/keys').set('Authorization', `Bearer ${granted.body.access_token}`)).status).toBe(200);
    expect((await server.http.get('/admin/users').set('Authorization', `Bearer ${granted.body.access_token}`)).status).toBe(403);

    expectOAuthError(await postToken(server, { grant_type: 'password', username: reader.username, password: reader.password }, console), 400, 'invalid_scope');
    expectOAuthError(
      await postToken(server, { grant_type: 'password', username: keeper.username, password: keeper.password, scope: 'read' }, console),
      400,
      'invalid_scope',
    );
    expectOAuthError(await postToken(server, { grant_type: 'client_credentials' }, console), 400, 'unauthorized_client');
    // A public client has no secret to present, and cannot use one.
    expectOAuthError(
      await postToken(server, { grant_type: 'password', username: keeper.username, password: keeper.password }, { post: [CONSOLE_CLIENT_ID, 'x'.repeat(40)] }),
      401,
      'invalid_client',
    );
  });
});

describe('CONSOLE_ENABLED=false', () => {
  it('leaves /console and its files 404, and creates no client', async () => {
    const off = await startTestServer({ env: { CONSOLE_ENABLED: 'false' } });
    try {
      expect(await ensureConsoleClient(off.deps)).toBe('disabled');
      for (const path of ['/console', '/console/main.js', '/console/console.css']) {
        const response = await off.http.get(path);
        expect({ path, status: response.status }).toEqual({ path, status: 404 });
      }
      const token = await adminToken(off, ['admin:clients']);
      expect((await off.http.get(`/admin/clients/${CONSOLE_CLIENT_ID}`).set('Authorization', `Bearer ${token}`)).status).toBe(404);
    } finally {
      await off.close();
    }
  });
});
