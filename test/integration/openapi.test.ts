import { compileErrors, dereference, validate } from '@readme/openapi-parser';
import type Router from '@koa/router';
import { Ajv2020 } from 'ajv/dist/2020.js';
import formatsPlugin from 'ajv-formats';
import type { Response } from 'supertest';
import { createClientRequestSchema, updateClientRequestSchema } from '../../src/endpoints/admin/clients.js';
import { rotateKeysRequestSchema } from '../../src/endpoints/admin/keys.js';
import { revocationRequestSchema } from '../../src/endpoints/admin/revocations.js';
import { createUserRequestSchema, updateUserRequestSchema } from '../../src/endpoints/admin/users.js';
import { introspectionRequestSchema } from '../../src/endpoints/introspect.js';
import { tokenRevocationRequestSchema } from '../../src/endpoints/revoke.js';
import { GRANT_TYPE_HANDLERS } from '../../src/grant-types/index.js';
import { buildOpenApiDocument, type OpenApiDocument } from '../../src/openapi/document.js';
import { ROUTES } from '../../src/routes.js';
import { basicAuth, startTestServer, type TestServer } from '../helpers/server.js';
import { adminToken, introspector, postToken, type TestClientAuth } from '../helpers/token.js';

type Json = Record<string, any>;

let server: TestServer;
let document: OpenApiDocument;
let dereferenced: Json;
let appSecret: string;

const ajv = new Ajv2020({ strict: false, allErrors: true });
(formatsPlugin as unknown as (ajv: Ajv2020) => void)(ajv);

beforeAll(async () => {
  server = await startTestServer();
  appSecret = (await server.createClient({ id: 'app', grantTypes: ['password', 'refresh_token'], scopes: ['read', 'write'] })).clientSecret as string;
  await server.createUser({ username: 'alice', password: 'alice password', email: 'alice@example.com' });
  const response = await server.http.get('/openapi.json');
  expect(response.status).toBe(200);
  document = response.body as OpenApiDocument;
  // The parser dereferences in place: give it a copy.
  dereferenced = await dereference(structuredClone(document) as never);
});
afterAll(() => server.close());

/** Asserts that the answer's status is documented for the operation and its body matches the schema. */
function expectDocumented(path: string, method: string, response: Response): void {
  const operation = dereferenced.paths[path]?.[method];
  expect(operation).toBeDefined();
  const documented = operation.responses[String(response.status)];
  if (!documented) throw new Error(`${method.toUpperCase()} ${path} answered ${response.status}, which the document does not list`);
  const [mediaType, content] = Object.entries((documented.content ?? {}) as Record<string, { schema: object }>)[0] ?? [];
  if (!mediaType || !content) {
    expect(response.text ?? '').toBe('');
    return;
  }
  expect(response.headers['content-type']).toContain(mediaType);
  const validate = ajv.compile(content.schema);
  if (!validate(response.body)) {
    throw new Error(`${method.toUpperCase()} ${path} ${response.status} does not match its schema: ${ajv.errorsText(validate.errors)}\n${response.text}`);
  }
}

function tokenRequest(form: Record<string, string>, auth: TestClientAuth = { basic: ['app', appSecret] }) {
  return postToken(server, form, auth);
}

describe('the OpenAPI document', () => {
  it('is a valid OpenAPI 3.1 document whose server is wherever it was fetched from ("Try it out" at any host)', async () => {
    expect(document.openapi).toBe('3.1.0');
    // Relative: resolved against the document's own URL, whatever host or path prefix that has.
    expect(document.servers.map((entry: { url: string }) => new URL(entry.url, 'http://gatehouse.internal:8080/auth/openapi.json').href)).toEqual([
      'http://gatehouse.internal:8080/auth/',
    ]);
    const base = new URL(document.servers[0]!.url, `${server.baseUrl}/openapi.json`);
    expect((await fetch(new URL('.well-known/oauth-authorization-server', base))).status).toBe(200);
    const result = await validate(structuredClone(document) as never);
    if (!result.valid) throw new Error(compileErrors(result));
    expect(result.warnings).toEqual([]);
  });

  it('has an operation for every route of the app', () => {
    const router = (server.app.middleware as Array<{ router?: Router }>).find((middleware) => middleware.router)?.router;
    expect(router).toBeDefined();
    const routes = (router as Router).stack.flatMap((layer) =>
      layer.methods
        .filter((method) => method !== 'HEAD')
        .map((method) => [method.toLowerCase(), String(layer.path).replace(/:([A-Za-z_]+)/g, '{$1}')] as const),
    );
    expect(routes.length).toBeGreaterThan(20);
    const missing = routes.filter(([method, path]) => !document.paths[path]?.[method]).map(([method, path]) => `${method} ${path}`);
    expect(missing).toEqual([]);
    expect(document.paths['/metrics']?.get).toBeDefined();
  });

  it('is built from the very schema objects the endpoints validate with', () => {
    const built = buildOpenApiDocument({ routes: ROUTES });
    const schemas = built.components.schemas as Json;
    const requestSchema = (path: string, method: string, type = 'application/json') => (built.paths[path]?.[method] as Json).requestBody.content[type].schema;
    for (const handler of GRANT_TYPE_HANDLERS.values()) {
      const name = Object.keys(schemas).find((key) => schemas[key].properties?.grant_type?.const === handler.grantType) as string;
      expect(name).toBeDefined();
      for (const [parameter, schema] of Object.entries(handler.parameters.properties)) expect(schemas[name].properties[parameter]).toBe(schema);
      expect(schemas[name].required).toEqual(['grant_type', ...handler.parameters.required]);
    }
    expect(requestSchema('/admin/clients', 'post')).toBe(createClientRequestSchema);
    expect(requestSchema('/admin/clients/{id}', 'patch')).toBe(updateClientRequestSchema);
    expect(requestSchema('/admin/users', 'post')).toBe(createUserRequestSchema);
    expect(requestSchema('/admin/users/{id}', 'patch')).toBe(updateUserRequestSchema);
    expect(requestSchema('/admin/revocations', 'post')).toBe(revocationRequestSchema);
    expect(requestSchema('/admin/keys/rotate', 'post')).toBe(rotateKeysRequestSchema);
    const introspect = requestSchema('/introspect', 'post', 'application/x-www-form-urlencoded');
    expect(introspect.properties.token).toBe(introspectionRequestSchema.properties.token);
    expect(introspect.required).toBe(introspectionRequestSchema.required);
    const revoke = requestSchema('/revoke', 'post', 'application/x-www-form-urlencoded');
    expect(revoke.properties.token_type_hint).toBe(tokenRevocationRequestSchema.properties.token_type_hint);
  });

  it('names the admin scope of every admin operation in its security requirement', () => {
    for (const [path, item] of Object.entries(document.paths).filter(([path]) => path.startsWith('/admin/'))) {
      for (const [method, operation] of Object.entries(item).filter(([method]) => method !== 'parameters')) {
        const security = (operation as Json).security as Array<Record<string, string[]>>;
        expect({ path, method, scopes: security[0]?.adminBearer }).toEqual({
          path,
          method,
          scopes: [expect.stringMatching(/^admin:(tokens|keys|clients|users)$/)],
        });
      }
    }
  });
});

describe('real answers match the documented responses', () => {
  it('POST /token: success and RFC 6749 errors', async () => {
    const success = await tokenRequest({ grant_type: 'password', username: 'alice', password: 'alice password' });
    expect(success.status).toBe(200);
    expectDocumented('/token', 'post', success);
    const refreshed = await tokenRequest({ grant_type: 'refresh_token', refresh_token: success.body.refresh_token, scope: 'read' });
    expect(refreshed.status).toBe(200);
    expectDocumented('/token', 'post', refreshed);

    const wrongPassword = await tokenRequest({ grant_type: 'password', username: 'alice', password: 'nope' });
    expect(wrongPassword.body.error).toBe('invalid_grant');
    expectDocumented('/token', 'post', wrongPassword);
    const unsupported = await tokenRequest({ grant_type: 'urn:example:unknown' });
    expect(unsupported.body.error).toBe('unsupported_grant_type');
    expectDocumented('/token', 'post', unsupported);
    const missing = await tokenRequest({ grant_type: 'password', username: 'alice' });
    expect(missing.body.error).toBe('invalid_request');
    expectDocumented('/token', 'post', missing);
    const badClient = await tokenRequest({ grant_type: 'password', username: 'alice', password: 'alice password' }, { basic: ['app', 'x'.repeat(40)] });
    expect(badClient.status).toBe(401);
    expectDocumented('/token', 'post', badClient);
  });

  it('POST /introspect and POST /revoke', async () => {
    const introspect = await introspector(server);
    const tokens = await tokenRequest({ grant_type: 'password', username: 'alice', password: 'alice password' });
    const active = await introspect(tokens.body.access_token);
    expect(active.body.active).toBe(true);
    expectDocumented('/introspect', 'post', active);
    const refreshActive = await introspect(tokens.body.refresh_token, 'refresh_token');
    expect(refreshActive.body).toMatchObject({ active: true, token_type: 'refresh_token' });
    expectDocumented('/introspect', 'post', refreshActive);

    const revoked = await server.http.post('/revoke').set('Authorization', basicAuth('app', appSecret)).type('form').send({ token: tokens.body.refresh_token });
    expect(revoked.status).toBe(200);
    expectDocumented('/revoke', 'post', revoked);
    const inactive = await introspect(tokens.body.access_token);
    expect(inactive.body).toEqual({ active: false });
    expectDocumented('/introspect', 'post', inactive);

    const noToken = await server.http.post('/introspect').set('Authorization', basicAuth('app', appSecret)).type('form').send({});
    expect(noToken.body).toMatchObject({ error: 'invalid_request', error_description: 'the parameter "token" is required' });
    expectDocumented('/introspect', 'post', noToken);
    const noRevocationToken = await server.http
      .post('/revoke')
      .set('Authorization', basicAuth('app', appSecret))
      .type('form')
      .send({ token_type_hint: 'id_token' });
    expect(noRevocationToken.body.error).toBe('invalid_request');
    expectDocumented('/revoke', 'post', noRevocationToken);

    // A body over 16 KiB, at both.
    for (const path of ['/introspect', '/revoke']) {
      const tooLarge = await server.http
        .post(path)
        .set('Authorization', basicAuth('app', appSecret))
        .type('form')
        .send({ token: 'x'.repeat(20_000) });
      expect(tooLarge.status).toBe(413);
      expectDocumented(path, 'post', tooLarge);
    }
  });

  it('the admin API refuses a body that is not JSON with a documented 415', async () => {
    const admin = await adminToken(server, ['admin:clients'], 'openapi-415-admin');
    const notJson = await server.http.post('/admin/clients').auth(admin, { type: 'bearer' }).type('form').send({ id: 'x' });
    expect(notJson.status).toBe(415);
    expectDocumented('/admin/clients', 'post', notJson);
  });

  it('the admin API: lists, creation, changes and its 401/403 answers', async () => {
    const token = await adminToken(server, ['admin:clients', 'admin:users', 'admin:tokens', 'admin:keys']);
    const admin = (request: ReturnType<typeof server.http.get>) => request.set('Authorization', `Bearer ${token}`);

    const created = await admin(server.http.post('/admin/clients')).send({ client_id: 'created', grant_types: ['client_credentials'], scopes: ['read'] });
    expect(created.status).toBe(201);
    expectDocumented('/admin/clients', 'post', created);
    const rotated = await admin(server.http.patch('/admin/clients/created')).send({ rotate_secret: true });
    expectDocumented('/admin/clients/{id}', 'patch', rotated);
    const conflict = await admin(server.http.post('/admin/clients')).send({ client_id: 'created', grant_types: ['client_credentials'], scopes: ['read'] });
    expectDocumented('/admin/clients', 'post', conflict);
    const resource = await admin(server.http.post('/admin/resources')).send({ uri: 'https://orders.example.com', scopes: ['orders:read'] });
    expect(resource.status).toBe(201);
    expectDocumented('/admin/resources', 'post', resource);
    const resourcePath = `/admin/resources/${encodeURIComponent('https://orders.example.com')}`;
    expectDocumented('/admin/resources/{uri}', 'get', await admin(server.http.get(resourcePath)));
    expectDocumented('/admin/resources/{uri}', 'patch', await admin(server.http.patch(resourcePath)).send({ scopes: ['orders:read', 'orders:write'] }));
    expectDocumented('/admin/resources', 'get', await admin(server.http.get('/admin/resources')));
    const withResource = await admin(server.http.post('/admin/clients')).send({
      client_id: 'orders-client',
      grant_types: ['client_credentials'],
      scopes: ['orders:read'],
      resources: ['https://orders.example.com'],
    });
    expectDocumented('/admin/clients', 'post', withResource);
    const inUse = await admin(server.http.delete(resourcePath));
    expect(inUse.status).toBe(409);
    expectDocumented('/admin/resources/{uri}', 'delete', inUse);
    const clients = await admin(server.http.get('/admin/clients?limit=1'));
    expect(clients.body.next_cursor).toEqual(expect.any(String));
    expectDocumented('/admin/clients', 'get', clients);
    const users = await admin(server.http.get('/admin/users'));
    expect(users.body.items.length).toBeGreaterThan(0);
    expectDocumented('/admin/users', 'get', users);
    const changed = await admin(server.http.patch(`/admin/users/${users.body.items[0].id}`)).send({ name: 'Alice' });
    expectDocumented('/admin/users/{id}', 'patch', changed);
    const grants = await admin(server.http.get('/admin/grants?username=alice'));
    expectDocumented('/admin/grants', 'get', grants);
    const aliceId = users.body.items.find((user: { username: string }) => user.username === 'alice').id as string;
    const byUserId = await admin(server.http.get('/admin/grants').query({ user_id: aliceId }));
    expect(byUserId.body.items.some((grant: { last_refreshed_at: string | null }) => grant.last_refreshed_at !== null)).toBe(true);
    expectDocumented('/admin/grants', 'get', byUserId);
    expectDocumented('/admin/users', 'get', await admin(server.http.get('/admin/users').query({ search: 'ALI' })));
    const keys = await admin(server.http.get('/admin/keys'));
    expect(keys.body.next_rotation_at).toEqual(expect.any(String));
    expectDocumented('/admin/keys', 'get', keys);
    expectDocumented('/admin/audit', 'get', await admin(server.http.get('/admin/audit')));
    const audit = await admin(server.http.get('/admin/audit').query({ target: aliceId, since: '2000-01-01T00:00:00Z', until: '2999-12-31T23:59:59Z' }));
    expect(audit.body.items.length).toBeGreaterThan(0);
    expectDocumented('/admin/audit', 'get', audit);
    expectDocumented('/admin/audit', 'get', await admin(server.http.get('/admin/audit').query({ since: 'yesterday' })));
    expectDocumented('/admin/revocations', 'post', await admin(server.http.post('/admin/revocations')).send({ username: 'alice' }));
    const notFound = await admin(server.http.get('/admin/users/00000000-0000-4000-8000-000000000000'));
    expect(notFound.status).toBe(404);
    expectDocumented('/admin/users/{id}', 'get', notFound);

    const unauthenticated = await server.http.get('/admin/users');
    expect(unauthenticated.status).toBe(401);
    expectDocumented('/admin/users', 'get', unauthenticated);
    const weak = await adminToken(server, ['admin:keys'], 'keys-only');
    const forbidden = await server.http.get('/admin/users').set('Authorization', `Bearer ${weak}`);
    expect(forbidden.status).toBe(403);
    expectDocumented('/admin/users', 'get', forbidden);
  });

  it('discovery and operations', async () => {
    expectDocumented('/.well-known/oauth-authorization-server', 'get', await server.http.get('/.well-known/oauth-authorization-server'));
    expectDocumented('/.well-known/jwks.json', 'get', await server.http.get('/.well-known/jwks.json'));
    expectDocumented('/healthz', 'get', await server.http.get('/healthz'));
    expectDocumented('/readyz', 'get', await server.http.get('/readyz'));
  });
});

describe('the API reference page at /docs', () => {
  it('renders the document with assets served by Gatehouse itself', async () => {
    const page = await server.http.get('/docs');
    expect(page.status).toBe(200);
    expect(page.headers['content-type']).toContain('text/html');
    // No CDN: every script and stylesheet is a relative path under docs/.
    const references = [...page.text.matchAll(/(?:src|href)="([^"]+)"/g)].map((match) => match[1] as string);
    expect(references.length).toBeGreaterThan(0);
    for (const reference of references) {
      expect(reference).toMatch(/^docs\/[\w.-]+$/);
      const asset = await server.http.get(`/${reference}`);
      expect({ reference, status: asset.status }).toEqual({ reference, status: 200 });
      expect((asset.body as Buffer | undefined)?.length ?? asset.text.length).toBeGreaterThan(0);
    }
    const start = await server.http.get('/docs/start.js');
    expect(start.text).toContain('openapi.json');
    expect(start.text).toContain('validatorUrl: null');
    expect(page.headers['content-security-policy']).toContain("script-src 'self'");
    expect(page.headers['content-security-policy']).not.toMatch(/unsafe-eval|https?:\/\//);
  });

  it('serves only the listed files', async () => {
    for (const path of ['/docs/index.html', '/docs/package.json', '/docs/..%2Fpackage.json', '/docs/swagger-ui-bundle.js.map']) {
      const response = await server.http.get(path);
      expect({ path, status: response.status }).toEqual({ path, status: 404 });
    }
    const trailing = await server.http.get('/docs/');
    expect([200, 301, 302]).toContain(trailing.status);
  });
});
