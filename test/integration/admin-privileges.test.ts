import { startTestServer, type TestServer } from '../helpers/server.js';
import { adminToken, expectOAuthError, passwordTokens, postToken } from '../helpers/token.js';

const ALL_ADMIN_SCOPES = ['admin:tokens', 'admin:keys', 'admin:clients', 'admin:users'];

/**
 * Security review, finding 1: a caller can never grant authority it does not hold. Each test is an
 * attack as the review ran it, which must now fail and change nothing.
 */
describe('admin scopes separate privileges', () => {
  let server: TestServer;
  let root: { clientId: string; clientSecret: string | null };
  let rootAuth: string;
  let clientsOnly: string;

  beforeAll(async () => {
    server = await startTestServer();
    root = await server.createClient({ id: 'root-admin', grantTypes: ['client_credentials'], scopes: ALL_ADMIN_SCOPES });
    const rootToken = await postToken(server, { grant_type: 'client_credentials' }, { basic: [root.clientId, root.clientSecret as string] });
    rootAuth = `Bearer ${rootToken.body.access_token}`;
    clientsOnly = `Bearer ${await adminToken(server, ['admin:clients'], 'clients-admin')}`;
  });
  afterAll(() => server.close());

  const auditActions = async (): Promise<string[]> =>
    (await server.http.get('/admin/audit').query({ limit: '200' }).set('Authorization', rootAuth)).body.items.map((entry: { action: string }) => entry.action);

  describe('a token holding only admin:clients', () => {
    it('cannot create a client carrying admin scopes it lacks, and nothing is created or audited', async () => {
      const before = await auditActions();
      const response = await server.http
        .post('/admin/clients')
        .set('Authorization', clientsOnly)
        .send({ client_id: 'escalator', grant_types: ['client_credentials'], scopes: ['admin:tokens', 'admin:keys', 'admin:clients', 'admin:users'] });
      expectOAuthError(response, 403, 'insufficient_scope');
      expect(response.body.error_description).toMatch(/admin:tokens/);
      expect((await server.http.get('/admin/clients/escalator').set('Authorization', rootAuth)).status).toBe(404);
      expect(await auditActions()).toEqual(before);
    });

    it('cannot rotate or set the secret of a client holding admin scopes it lacks; the old secret keeps working', async () => {
      for (const body of [{ rotate_secret: true }, { client_secret: 'x'.repeat(40) }]) {
        expectOAuthError(await server.http.patch('/admin/clients/root-admin').set('Authorization', clientsOnly).send(body), 403, 'insufficient_scope');
      }
      const still = await postToken(server, { grant_type: 'client_credentials' }, { basic: [root.clientId, root.clientSecret as string] });
      expect(still.status).toBe(200);
    });

    it('cannot change the scopes of, or delete, a client holding admin scopes it lacks', async () => {
      expectOAuthError(
        await server.http
          .patch('/admin/clients/root-admin')
          .set('Authorization', clientsOnly)
          .send({ scopes: ['read'] }),
        403,
        'insufficient_scope',
      );
      expectOAuthError(await server.http.delete('/admin/clients/root-admin').set('Authorization', clientsOnly), 403, 'insufficient_scope');
      expect((await server.http.get('/admin/clients/root-admin').set('Authorization', rootAuth)).body.scopes).toEqual(ALL_ADMIN_SCOPES);
    });

    it('cannot add an admin scope it lacks to an ordinary client', async () => {
      await server.http
        .post('/admin/clients')
        .set('Authorization', clientsOnly)
        .send({ client_id: 'plain', grant_types: ['client_credentials'], scopes: ['read'] })
        .expect(201);
      expectOAuthError(
        await server.http
          .patch('/admin/clients/plain')
          .set('Authorization', clientsOnly)
          .send({ scopes: ['read', 'admin:keys'] }),
        403,
        'insufficient_scope',
      );
      expect((await server.http.get('/admin/clients/plain').set('Authorization', rootAuth)).body.scopes).toEqual(['read']);
    });

    it('still manages ordinary clients freely, and may hand on the admin scope it holds', async () => {
      const created = await server.http
        .post('/admin/clients')
        .set('Authorization', clientsOnly)
        .send({ client_id: 'reports', grant_types: ['client_credentials'], scopes: ['reports:read', 'billing:write'] });
      expect(created.status).toBe(201);
      expect((await server.http.patch('/admin/clients/reports').set('Authorization', clientsOnly).send({ rotate_secret: true })).status).toBe(200);
      const deputy = await server.http
        .post('/admin/clients')
        .set('Authorization', clientsOnly)
        .send({ client_id: 'deputy', grant_types: ['client_credentials'], scopes: ['admin:clients'] });
      expect(deputy.status).toBe(201);
      expect((await server.http.delete('/admin/clients/reports').set('Authorization', clientsOnly)).status).toBe(204);
    });
  });

  describe('a user holding admin:users', () => {
    let console: { clientId: string; clientSecret: string | null };
    let manager: { id: string; username: string; password: string };
    let managerAuth: string;

    beforeAll(async () => {
      console = await server.createClient({ id: 'console', grantTypes: ['password'], scopes: ['admin:users', 'admin:tokens', 'read'] });
      manager = await server.createUser({ username: 'manager', scopes: ['admin:users', 'read'] });
      managerAuth = `Bearer ${(await passwordTokens(server, console, manager)).access_token}`;
    });

    it('cannot PATCH their own scopes upward', async () => {
      const response = await server.http
        .patch(`/admin/users/${manager.id}`)
        .set('Authorization', managerAuth)
        .send({ scopes: ['admin:users', 'admin:tokens', 'read'] });
      expectOAuthError(response, 403, 'insufficient_scope');
      expect((await server.http.get(`/admin/users/${manager.id}`).set('Authorization', rootAuth)).body.scopes).toEqual(['admin:users', 'read']);
    });

    it('cannot create a user with an admin scope it lacks', async () => {
      const response = await server.http
        .post('/admin/users')
        .set('Authorization', managerAuth)
        .send({ username: 'sneaky', password: 'sneaky password', scopes: ['admin:keys'] });
      expectOAuthError(response, 403, 'insufficient_scope');
      const users = await server.http.get('/admin/users').set('Authorization', rootAuth);
      expect(users.body.items.map((u: { username: string }) => u.username)).not.toContain('sneaky');
    });

    it('cannot reset the password of, disable, re-scope or delete a user holding an admin scope it lacks', async () => {
      const tokenAdmin = await server.createUser({ username: 'token-admin', scopes: ['admin:tokens'] });
      for (const body of [{ password: 'a new password for you' }, { disabled: true }, { scopes: ['read'] }, { email: 'x@example.com' }]) {
        expectOAuthError(await server.http.patch(`/admin/users/${tokenAdmin.id}`).set('Authorization', managerAuth).send(body), 403, 'insufficient_scope');
      }
      expectOAuthError(await server.http.delete(`/admin/users/${tokenAdmin.id}`).set('Authorization', managerAuth), 403, 'insufficient_scope');
      // Nothing changed: the old password still logs in.
      expect((await passwordTokens(server, console, tokenAdmin, 'admin:tokens')).scope).toBe('admin:tokens');
    });

    it('manages ordinary users freely and may assign ordinary scopes it does not hold', async () => {
      const created = await server.http
        .post('/admin/users')
        .set('Authorization', managerAuth)
        .send({ username: 'worker', password: 'worker password', scopes: ['billing:write', 'read'] });
      expect(created.status).toBe(201);
      const id = created.body.id as string;
      expect(
        (
          await server.http
            .patch(`/admin/users/${id}`)
            .set('Authorization', managerAuth)
            .send({ scopes: ['orders:write'] })
        ).status,
      ).toBe(200);
      expect((await server.http.patch(`/admin/users/${id}`).set('Authorization', managerAuth).send({ password: 'another password' })).status).toBe(200);
      expect((await server.http.delete(`/admin/users/${id}`).set('Authorization', managerAuth)).status).toBe(204);
    });

    it('records the acting user and the client it acted through as separate fields', async () => {
      const audit = await server.http.get('/admin/audit').query({ actor_id: manager.id }).set('Authorization', rootAuth);
      expect(audit.body.items.length).toBeGreaterThan(0);
      for (const entry of audit.body.items) {
        expect(entry.actor).toEqual({ type: 'user', id: manager.id, client_id: 'console', username: 'manager' });
      }
    });
  });

  it('the audit log tells a user acting through a client from a client whose id looks like both', async () => {
    // A client named "adminpw/bob" acting with its own token, and user bob acting through client "adminpw".
    const lookalike = `Bearer ${await adminToken(server, ['admin:users'], 'adminpw/bob')}`;
    const adminpw = await server.createClient({ id: 'adminpw', grantTypes: ['password'], scopes: ['admin:users'] });
    const bob = await server.createUser({ username: 'bob', scopes: ['admin:users'] });
    const bobAuth = `Bearer ${(await passwordTokens(server, adminpw, bob)).access_token}`;
    const byClient = await server.http
      .post('/admin/users')
      .set('Authorization', lookalike)
      .send({ username: 'made-by-client', password: 'a fine password', scopes: [] });
    const byUser = await server.http
      .post('/admin/users')
      .set('Authorization', bobAuth)
      .send({ username: 'made-by-bob', password: 'a fine password', scopes: [] });
    expect([byClient.status, byUser.status]).toEqual([201, 201]);
    const entries = (await server.http.get('/admin/audit').query({ action: 'user.create' }).set('Authorization', rootAuth)).body.items as {
      actor: Record<string, unknown>;
      details: { username: string };
    }[];
    const actorOf = (username: string) => entries.find((entry) => entry.details.username === username)?.actor;
    expect(actorOf('made-by-client')).toEqual({ type: 'client', id: 'adminpw/bob' });
    expect(actorOf('made-by-bob')).toEqual({ type: 'user', id: bob.id, client_id: 'adminpw', username: 'bob' });
  });

  it("refuses client ids in the user-id (UUID) format, so a client token can never carry a user's sub", async () => {
    const user = await server.createUser({ username: 'uuid-victim' });
    const response = await server.http
      .post('/admin/clients')
      .set('Authorization', rootAuth)
      .send({ client_id: user.id, grant_types: ['client_credentials'], scopes: ['read'] });
    expectOAuthError(response, 400, 'invalid_request');
    expect(response.body.error_description).toMatch(/UUID/);
    expect((await server.http.get(`/admin/clients/${user.id}`).set('Authorization', rootAuth)).status).toBe(404);
    // Written any other way a UUID parser (PostgreSQL's, Python's) reads as the same id.
    const hex = user.id.replace(/-/g, '');
    for (const spelling of [user.id.toUpperCase(), hex, `{${user.id}}`, `urn:uuid:${user.id}`, hex.replace(/(.{4})(?!$)/g, '$1-')]) {
      const refused = await server.http
        .post('/admin/clients')
        .set('Authorization', rootAuth)
        .send({ client_id: spelling, grant_types: ['client_credentials'], scopes: ['read'] });
      expect({ spelling, status: refused.status }).toEqual({ spelling, status: 400 });
    }
    // Hex that is no UUID is a fine client id.
    const fine = await server.http
      .post('/admin/clients')
      .set('Authorization', rootAuth)
      .send({ client_id: hex.slice(0, 30), grant_types: ['client_credentials'], scopes: ['read'] });
    expect(fine.status).toBe(201);
  });

  it('refuses a token minted for another API (aud), even with the right scope', async () => {
    const billing = await server.createClient({
      id: 'billing-admin',
      grantTypes: ['client_credentials'],
      scopes: ['admin:tokens'],
      audience: 'https://billing.example.com',
    });
    const token = await postToken(server, { grant_type: 'client_credentials' }, { basic: [billing.clientId, billing.clientSecret as string] });
    expect(token.status).toBe(200);
    const response = await server.http.get('/admin/grants').set('Authorization', `Bearer ${token.body.access_token}`);
    expect(response.status).toBe(401);
    expect(response.body.error).toBe('invalid_token');
    expect(response.headers['www-authenticate']).toMatch(/^Bearer .*error="invalid_token"/);
  });

  it('an admin scope taken away counts at once, for the tokens issued before too', async () => {
    // A client's own token.
    const keysAdmin = `Bearer ${await adminToken(server, ['admin:keys', 'admin:clients'], 'demoted-client')}`;
    expect((await server.http.get('/admin/keys').set('Authorization', keysAdmin)).status).toBe(200);
    const demoted = await server.http
      .patch('/admin/clients/demoted-client')
      .set('Authorization', rootAuth)
      .send({ scopes: ['admin:clients'] });
    expect(demoted.status).toBe(200);
    expectOAuthError(await server.http.get('/admin/keys').set('Authorization', keysAdmin), 403, 'insufficient_scope');
    expect((await server.http.get('/admin/clients').set('Authorization', keysAdmin)).status).toBe(200);

    // A user's token, through a client that may ask for admin:users.
    const consoleClient = await server.createClient({ id: 'demotion-console', grantTypes: ['password'], scopes: ['admin:users', 'read'] });
    const helpdesk = await server.createUser({ username: 'helpdesk-demoted', scopes: ['admin:users', 'read'] });
    const userAuth = `Bearer ${(await passwordTokens(server, consoleClient, helpdesk)).access_token}`;
    expect((await server.http.get('/admin/users').set('Authorization', userAuth)).status).toBe(200);
    const taken = await server.http
      .patch(`/admin/users/${helpdesk.id}`)
      .set('Authorization', rootAuth)
      .send({ scopes: ['read'] });
    expect(taken.status).toBe(200);
    expectOAuthError(await server.http.get('/admin/users').set('Authorization', userAuth), 403, 'insufficient_scope');
  });
});
