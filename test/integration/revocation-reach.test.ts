import { decodeJwt } from 'jose';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { adminToken, introspector, passwordTokens, postToken } from '../helpers/token.js';

/**
 * Security review, findings 3 and 4: revoking by client ends every access token issued to it before
 * that moment, client_credentials tokens included, and a token never outlives its client, whatever
 * is created later under the same id.
 */
describe('revocation reaches tokens without a grant, and tokens never outlive their client', () => {
  let server: TestServer;
  let ask: Awaited<ReturnType<typeof introspector>>;
  let rootAuth: string;

  beforeAll(async () => {
    server = await startTestServer();
    rootAuth = `Bearer ${await adminToken(server, ['admin:tokens', 'admin:clients', 'admin:users'], 'root-admin')}`;
    ask = await introspector(server);
  });
  afterAll(() => server.close());

  const clientCredentials = async (client: { clientId: string; clientSecret: string | null }): Promise<string> => {
    const response = await postToken(server, { grant_type: 'client_credentials' }, { basic: [client.clientId, client.clientSecret as string] });
    expect(response.status).toBe(200);
    return response.body.access_token as string;
  };

  it('POST /admin/revocations {client_id} ends the client_credentials tokens issued before it, not those issued after', async () => {
    const service = await server.createClient({ id: 'batch-service', grantTypes: ['client_credentials'], scopes: ['read'] });
    const first = await clientCredentials(service);
    const second = await clientCredentials(service);
    expect((await ask(first)).body.active).toBe(true);
    const response = await server.http.post('/admin/revocations').set('Authorization', rootAuth).send({ client_id: 'batch-service' });
    // N counts grants (sessions); client_credentials tokens are not stored, so they end without being counted.
    expect(response.body).toEqual({ revoked: 0 });
    expect((await ask(first)).body).toEqual({ active: false });
    expect((await ask(second)).body).toEqual({ active: false });
    // The client itself is not disabled: a token asked for afterwards is live at once.
    const after = await clientCredentials(service);
    expect((await ask(after)).body.active).toBe(true);
  });

  it('a revoked admin token of a client is refused by the admin API too', async () => {
    const deputy = await server.createClient({ id: 'deputy', grantTypes: ['client_credentials'], scopes: ['admin:tokens'] });
    const token = await clientCredentials(deputy);
    expect((await server.http.get('/admin/grants').set('Authorization', `Bearer ${token}`)).status).toBe(200);
    await server.http.post('/admin/revocations').set('Authorization', rootAuth).send({ client_id: 'deputy' }).expect(200);
    expect((await server.http.get('/admin/grants').set('Authorization', `Bearer ${token}`)).status).toBe(401);
  });

  it('revoking by client also ends the grants of its users, and counts them', async () => {
    const web = await server.createClient({ id: 'web-app', grantTypes: ['password', 'refresh_token'], scopes: ['read'] });
    const alice = await server.createUser({ username: 'alice', scopes: ['read'] });
    const tokens = await passwordTokens(server, web, alice);
    expect((await server.http.post('/admin/revocations').set('Authorization', rootAuth).send({ client_id: 'web-app' })).body).toEqual({ revoked: 1 });
    expect((await ask(tokens.access_token)).body.active).toBe(false);
    expect((await ask(tokens.refresh_token as string)).body.active).toBe(false);
  });

  it('a client deleted and created again under the same id does not bring its old tokens back', async () => {
    const first = await server.createClient({
      id: 'phoenix',
      grantTypes: ['client_credentials', 'password', 'refresh_token'],
      scopes: ['read', 'admin:tokens'],
    });
    const user = await server.createUser({ username: 'phoenix-user', scopes: ['read'] });
    const serviceToken = await clientCredentials(first);
    const userTokens = await passwordTokens(server, first, user, 'read');
    expect((await ask(serviceToken)).body.active).toBe(true);

    await server.http.delete('/admin/clients/phoenix').set('Authorization', rootAuth).expect(204);
    const again = await server.http
      .post('/admin/clients')
      .set('Authorization', rootAuth)
      .send({ client_id: 'phoenix', grant_types: ['client_credentials', 'password', 'refresh_token'], scopes: ['read', 'admin:tokens'] });
    expect(again.status).toBe(201);

    expect((await ask(serviceToken)).body).toEqual({ active: false });
    expect((await ask(userTokens.access_token)).body).toEqual({ active: false });
    expect((await ask(userTokens.refresh_token as string)).body).toEqual({ active: false });
    expect((await server.http.get('/admin/grants').set('Authorization', `Bearer ${serviceToken}`)).status).toBe(401);
    // The new client's own tokens work.
    const fresh = await clientCredentials({ clientId: 'phoenix', clientSecret: again.body.client_secret });
    expect((await ask(fresh)).body).toMatchObject({ active: true, client_id: 'phoenix' });
  });

  it('revoking by username ends every access token of the user, on every client', async () => {
    const mobile = await server.createClient({ id: 'mobile', grantTypes: ['password'], scopes: ['read'] });
    const desktop = await server.createClient({ id: 'desktop', grantTypes: ['password', 'refresh_token'], scopes: ['read'] });
    const bob = await server.createUser({ username: 'bob', scopes: ['read'] });
    const onMobile = await passwordTokens(server, mobile, bob);
    const onDesktop = await passwordTokens(server, desktop, bob);
    expect(decodeJwt(onMobile.access_token).sid).toBeDefined();
    expect((await server.http.post('/admin/revocations').set('Authorization', rootAuth).send({ username: 'bob' })).body).toEqual({ revoked: 2 });
    expect((await ask(onMobile.access_token)).body.active).toBe(false);
    expect((await ask(onDesktop.access_token)).body.active).toBe(false);
  });
});
