import { decodeJwt } from 'jose';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { adminToken, introspector, passwordTokens, postToken, refresh } from '../helpers/token.js';

describe('admin API', () => {
  let server: TestServer;
  let ask: Awaited<ReturnType<typeof introspector>>;
  let auth: string;
  let web: { clientId: string; clientSecret: string | null };
  let mobile: { clientId: string; clientSecret: string | null };
  /** Every secret and password the tests send, to prove none reaches the audit log. */
  const secretsSent: string[] = ['frank password', 'a brand new password'];

  beforeAll(async () => {
    server = await startTestServer();
    auth = `Bearer ${await adminToken(server, ['admin:tokens', 'admin:keys', 'admin:clients', 'admin:users'], 'root-admin')}`;
    web = await server.createClient({ id: 'web', grantTypes: ['password', 'refresh_token'] });
    mobile = await server.createClient({ id: 'mobile', grantTypes: ['password', 'refresh_token'] });
    ask = await introspector(server);
  });
  afterAll(() => server.close());

  describe('POST /admin/revocations', () => {
    it("by username ends all of that user's grants across clients, and only theirs", async () => {
      const bob = await server.createUser({ username: 'bob' });
      const carol = await server.createUser({ username: 'carol' });
      const onWeb = await passwordTokens(server, web, bob);
      const onMobile = await passwordTokens(server, mobile, bob);
      const carols = await passwordTokens(server, web, carol);
      const response = await server.http.post('/admin/revocations').set('Authorization', auth).send({ username: 'bob' });
      expect(response.status).toBe(200);
      expect(response.body).toEqual({ revoked: 2 });
      expect((await ask(onWeb.access_token)).body).toEqual({ active: false });
      expect((await ask(onMobile.access_token)).body).toEqual({ active: false });
      expect((await refresh(server, mobile, onMobile.refresh_token as string)).body.error).toBe('invalid_grant');
      expect((await ask(carols.access_token)).body.active).toBe(true);
      // Nothing left to revoke the second time.
      expect((await server.http.post('/admin/revocations').set('Authorization', auth).send({ username: 'bob' })).body).toEqual({ revoked: 0 });
    });

    it('by user_id, client_id, grant_id and jti', async () => {
      const dave = await server.createUser({ username: 'dave' });
      const byUser = await passwordTokens(server, web, dave);
      expect((await server.http.post('/admin/revocations').set('Authorization', auth).send({ user_id: dave.id })).body).toEqual({ revoked: 1 });
      expect((await ask(byUser.access_token)).body.active).toBe(false);

      const byGrant = await passwordTokens(server, web, dave);
      const grantId = decodeJwt(byGrant.access_token).sid as string;
      expect((await server.http.post('/admin/revocations').set('Authorization', auth).send({ grant_id: grantId })).body).toEqual({ revoked: 1 });
      expect((await ask(byGrant.refresh_token as string)).body.active).toBe(false);

      const byJti = await passwordTokens(server, web, dave);
      const jti = decodeJwt(byJti.access_token).jti as string;
      expect((await server.http.post('/admin/revocations').set('Authorization', auth).send({ jti })).body).toEqual({ revoked: 1 });
      expect((await server.http.post('/admin/revocations').set('Authorization', auth).send({ jti })).body).toEqual({ revoked: 0 });
      expect((await ask(byJti.access_token)).body.active).toBe(false);
      expect((await ask(byJti.refresh_token as string)).body.active).toBe(true);

      const scratch = await server.createClient({ id: 'scratch', grantTypes: ['password', 'refresh_token'] });
      const byClient = await passwordTokens(server, scratch, dave);
      expect((await server.http.post('/admin/revocations').set('Authorization', auth).send({ client_id: 'scratch' })).body).toEqual({ revoked: 1 });
      expect((await ask(byClient.access_token)).body.active).toBe(false);
    });

    it('refuses bodies that do not name exactly one known target', async () => {
      const cases: [unknown, RegExp][] = [
        [{}, /exactly one/],
        [{ username: 'a', jti: 'b' }, /exactly one/],
        [{ usernme: 'a' }, /unknown field "usernme"/],
        [{ username: 5 }, /username/],
        [[], /body/],
      ];
      for (const [body, message] of cases) {
        const response = await server.http
          .post('/admin/revocations')
          .set('Authorization', auth)
          .send(body as object);
        expect(response.status).toBe(400);
        expect(response.body.error).toBe('invalid_request');
        expect(response.body.error_description).toMatch(message);
      }
      const notJson = await server.http.post('/admin/revocations').set('Authorization', auth).type('form').send({ username: 'a' });
      expect(notJson.status).toBe(415);
      const broken = await server.http.post('/admin/revocations').set('Authorization', auth).set('Content-Type', 'application/json').send('{"username":');
      expect(broken.status).toBe(400);
    });

    it('refuses bytes that are not UTF-8 and bodies in another charset, and changes nothing', async () => {
      const before = (await server.http.get('/admin/users').query({ limit: '200' }).set('Authorization', auth)).body.items.length;
      // The bytes as they are: supertest would send a Buffer as its JSON form. (superagent writes what
      // the serializer returns to the socket; its types only know strings.)
      const asIs = (body: Buffer): string => body as unknown as string;
      const json = (text: string, bytes: number[]): Buffer => Buffer.concat([Buffer.from(text.replace('%', '')), Buffer.from(bytes), Buffer.from('"}')]);
      const latin1 = Buffer.from('{"username":"caf\xe9","password":"password of cafe","scopes":["read"]}', 'latin1');
      const cases: [Buffer, string, number, RegExp][] = [
        [json('{"username":"bad%', [0xff, 0xfe]), 'application/json', 400, /not valid UTF-8/],
        [latin1, 'application/json', 400, /not valid UTF-8/],
        [latin1, 'application/json; charset=iso-8859-1', 415, /UTF-8/],
        // Half a surrogate pair, escaped: valid JSON text, but no character (it would be stored as U+FFFD).
        [Buffer.from('{"username":"lone","password":"password of lone","name":"n\\ud800","scopes":["read"]}'), 'application/json', 400, /not valid UTF-8/],
        [Buffer.from('{"username":"lone","password":"pass\\udc00word of lone","scopes":["read"]}'), 'application/json', 400, /not valid UTF-8/],
      ];
      for (const [body, type, status, message] of cases) {
        const response = await server.http.post('/admin/users').set('Authorization', auth).set('Content-Type', type).serialize(asIs).send(body);
        expect({ status: response.status, error: response.body.error }).toEqual({ status, error: 'invalid_request' });
        expect(response.body.error_description).toMatch(message);
      }
      const revocation = await server.http
        .post('/admin/revocations')
        .set('Authorization', auth)
        .set('Content-Type', 'application/json')
        .serialize(asIs)
        .send(json('{"username":"%', [0xff, 0xfe]));
      expect(revocation.status).toBe(400);
      const query = await server.http.get('/admin/grants?username=%FF%FE').set('Authorization', auth);
      expect({ status: query.status, description: query.body.error_description }).toEqual({
        status: 400,
        description: 'the request URL contains bytes that are not UTF-8',
      });
      // In the path too, where the router leaves a segment it cannot decode as it came.
      for (const path of ['/admin/clients/%FF', '/admin/resources/a%C3%28', '/admin/users/%E2%82']) {
        const answer = await server.http.get(path).set('Authorization', auth);
        expect({ path, status: answer.status, description: answer.body.error_description }).toEqual({
          path,
          status: 400,
          description: 'the request URL contains bytes that are not UTF-8',
        });
      }
      expect((await server.http.get('/admin/users').query({ limit: '200' }).set('Authorization', auth)).body.items).toHaveLength(before);
      // UTF-8, said or not, still goes through.
      const utf8 = await server.http
        .post('/admin/users')
        .set('Authorization', auth)
        .set('Content-Type', 'application/json; charset=UTF-8')
        .serialize(asIs)
        .send(Buffer.from(JSON.stringify({ username: 'café', password: 'password of cafe', scopes: ['read'] })));
      expect({ status: utf8.status, username: utf8.body.username }).toEqual({ status: 201, username: 'café' });
    });
  });

  describe('GET /admin/grants', () => {
    it('lists active grants with filters and cursor pagination', async () => {
      const erin = await server.createUser({ username: 'erin' });
      for (let i = 0; i < 3; i++) await passwordTokens(server, web, erin);
      await passwordTokens(server, mobile, erin);
      const first = await server.http.get('/admin/grants').query({ username: 'erin', limit: '2' }).set('Authorization', auth);
      expect(first.status).toBe(200);
      expect(first.body.items).toHaveLength(2);
      expect(first.body.items[0]).toMatchObject({ username: 'erin', user_id: erin.id, scope: 'read write' });
      expect(typeof first.body.next_cursor).toBe('string');
      const second = await server.http.get('/admin/grants').query({ username: 'erin', limit: '2', cursor: first.body.next_cursor }).set('Authorization', auth);
      expect(second.body.items).toHaveLength(2);
      expect(second.body.next_cursor).toBeNull();
      const ids = new Set([...first.body.items, ...second.body.items].map((g: { grant_id: string }) => g.grant_id));
      expect(ids.size).toBe(4);
      const onMobile = await server.http.get('/admin/grants').query({ username: 'erin', client_id: 'mobile' }).set('Authorization', auth);
      expect(onMobile.body.items).toHaveLength(1);
      for (const query of [{ cursor: 'garbage' }, { limit: '0' }, { limit: 'x' }, { bogus: '1' }]) {
        const bad = await server.http.get('/admin/grants').query(query).set('Authorization', auth);
        expect(bad.status).toBe(400);
        expect(bad.body.error).toBe('invalid_request');
      }
    });
  });

  describe('/admin/clients', () => {
    it('creates (secret shown once), reads, updates, lists and deletes clients', async () => {
      const created = await server.http
        .post('/admin/clients')
        .set('Authorization', auth)
        .send({ client_id: 'svc', grant_types: ['client_credentials'], scopes: ['reports'], audience: 'https://api.example' });
      expect(created.status).toBe(201);
      expect(created.body.client_secret).toMatch(/^[A-Za-z0-9_-]{43}$/);
      secretsSent.push(created.body.client_secret);
      const read = await server.http.get('/admin/clients/svc').set('Authorization', auth);
      expect(read.body).toMatchObject({ client_id: 'svc', public: false, scopes: ['reports'], audience: 'https://api.example' });
      expect(JSON.stringify(read.body)).not.toContain(created.body.client_secret);
      expect(read.body).not.toHaveProperty('client_secret');

      const token = await postToken(server, { grant_type: 'client_credentials' }, { basic: ['svc', created.body.client_secret] });
      expect(decodeJwt(token.body.access_token).aud).toBe('https://api.example');

      const patched = await server.http
        .patch('/admin/clients/svc')
        .set('Authorization', auth)
        .send({ scopes: ['reports', 'exports'], rotate_secret: true });
      expect(patched.status).toBe(200);
      expect(patched.body.scopes).toEqual(['reports', 'exports']);
      expect(patched.body.client_secret).not.toBe(created.body.client_secret);
      secretsSent.push(patched.body.client_secret);
      const oldSecret = await postToken(server, { grant_type: 'client_credentials' }, { basic: ['svc', created.body.client_secret] });
      expect(oldSecret.status).toBe(401);

      const listed = await server.http.get('/admin/clients').set('Authorization', auth);
      expect(listed.body.items.map((c: { client_id: string }) => c.client_id)).toContain('svc');

      expect((await server.http.delete('/admin/clients/svc').set('Authorization', auth)).status).toBe(204);
      expect((await server.http.get('/admin/clients/svc').set('Authorization', auth)).status).toBe(404);
      expect((await ask(token.body.access_token)).body).toEqual({ active: false });
    });

    it('refuses invalid client definitions with a clear 4xx', async () => {
      const cases: [object, number][] = [
        [{ client_id: 'x', grant_types: ['implicit'], scopes: [] }, 400],
        [{ client_id: 'x', grant_types: ['password'], scopes: [], client_secret: 'short' }, 400],
        [{ client_id: 'x', grant_types: ['client_credentials'], scopes: [], public: true }, 400],
        [{ client_id: 'x', grant_types: ['password'], scopes: [], colour: 'red' }, 400],
        [{ client_id: 'web', grant_types: ['password'], scopes: [] }, 409],
      ];
      for (const [body, status] of cases) {
        const response = await server.http.post('/admin/clients').set('Authorization', auth).send(body);
        expect(response.status).toBe(status);
        expect(typeof response.body.error_description).toBe('string');
      }
      expect((await server.http.patch('/admin/clients/nope').set('Authorization', auth).send({ scopes: [] })).status).toBe(404);
    });
  });

  describe('/admin/users', () => {
    it('creates, reads, lists and updates users; never returns the password hash', async () => {
      const created = await server.http
        .post('/admin/users')
        .set('Authorization', auth)
        .send({ username: 'frank', password: 'frank password', email: 'frank@example.com', scopes: ['read'] });
      expect(created.status).toBe(201);
      expect(created.body).toMatchObject({ username: 'frank', email: 'frank@example.com', disabled: false });
      expect(JSON.stringify(created.body)).not.toMatch(/argon2|password/);
      const read = await server.http.get(`/admin/users/${created.body.id}`).set('Authorization', auth);
      expect(read.body.username).toBe('frank');
      expect((await server.http.get('/admin/users/not-a-uuid').set('Authorization', auth)).status).toBe(404);
      const tokens = await passwordTokens(server, web, { username: 'frank', password: 'frank password' });
      expect(decodeJwt(tokens.access_token).sub).toBe(created.body.id);
    });

    it('disabling a user ends their grants and refuses new logins', async () => {
      const gina = await server.createUser({ username: 'gina' });
      const tokens = await passwordTokens(server, web, gina);
      const patched = await server.http.patch(`/admin/users/${gina.id}`).set('Authorization', auth).send({ disabled: true });
      expect(patched.status).toBe(200);
      expect(patched.body.disabled).toBe(true);
      expect((await ask(tokens.access_token)).body).toEqual({ active: false });
      expect((await refresh(server, web, tokens.refresh_token as string)).body.error).toBe('invalid_grant');
      const login = await postToken(
        server,
        { grant_type: 'password', username: 'gina', password: gina.password },
        { basic: ['web', web.clientSecret as string] },
      );
      expect(login.body.error).toBe('invalid_grant');
    });

    it('changing the password ends the grants; the new password works', async () => {
      const hank = await server.createUser({ username: 'hank' });
      const tokens = await passwordTokens(server, web, hank);
      const patched = await server.http.patch(`/admin/users/${hank.id}`).set('Authorization', auth).send({ password: 'a brand new password' });
      expect(patched.body.revoked_grants).toBe(1);
      expect((await ask(tokens.refresh_token as string)).body).toEqual({ active: false });
      await passwordTokens(server, web, { username: 'hank', password: 'a brand new password' });
    });

    it('deleting a user makes their tokens inactive', async () => {
      const ivan = await server.createUser({ username: 'ivan' });
      const tokens = await passwordTokens(server, web, ivan);
      expect((await server.http.delete(`/admin/users/${ivan.id}`).set('Authorization', auth)).status).toBe(204);
      expect((await ask(tokens.access_token)).body).toEqual({ active: false });
      expect((await refresh(server, web, tokens.refresh_token as string)).body.error).toBe('invalid_grant');
    });

    it('refuses unknown fields, naming them', async () => {
      const response = await server.http.post('/admin/users').set('Authorization', auth).send({ username: 'z', password: 'p', scopes: [], admin: true });
      expect(response.status).toBe(400);
      expect(response.body.error_description).toBe('unknown field "admin"');
    });
  });

  describe('/admin/keys', () => {
    it('lists keys and rotates on demand', async () => {
      const before = await server.http.get('/admin/keys').set('Authorization', auth);
      const next = before.body.items.find((k: { state: string }) => k.state === 'next').kid;
      const rotated = await server.http.post('/admin/keys/rotate').set('Authorization', auth);
      expect(rotated.status).toBe(200);
      expect(rotated.body.current).toBe(next);
      const jwks = await server.http.get('/.well-known/jwks.json');
      const kids = JSON.parse(jwks.text).keys.map((k: { kid: string }) => k.kid);
      expect(kids).toEqual(expect.arrayContaining([rotated.body.current, rotated.body.next]));
    });
  });

  describe('GET /admin/audit', () => {
    it('shows every admin action, filterable by action, with no secrets', async () => {
      const all = await server.http.get('/admin/audit').query({ limit: '200' }).set('Authorization', auth);
      const actions = new Set(all.body.items.map((e: { action: string }) => e.action));
      for (const action of [
        'grants.revoke',
        'access_token.revoke',
        'client.create',
        'client.update',
        'client.delete',
        'user.create',
        'user.update',
        'user.delete',
        'keys.rotate',
      ]) {
        expect(actions).toContain(action);
      }
      expect(all.body.items[0].actor).toEqual({ type: 'client', id: 'root-admin' });
      expect(all.body.items.find((e: { action: string }) => e.action === 'grants.revoke').details).toMatchObject({ reason: expect.any(String) });
      const filtered = await server.http.get('/admin/audit').query({ action: 'user.update' }).set('Authorization', auth);
      expect(filtered.body.items.length).toBeGreaterThan(0);
      expect(filtered.body.items.every((e: { action: string }) => e.action === 'user.update')).toBe(true);
      const text = JSON.stringify(all.body);
      expect(text).not.toMatch(/eyJ/);
      for (const secret of secretsSent) expect(text).not.toContain(secret);
    });
  });
});
