import { startTestServer, type TestServer } from '../helpers/server.js';
import { expectOAuthError, postToken } from '../helpers/token.js';

const CC = { grant_type: 'client_credentials' };
// Characters that must be form-urlencoded inside Basic (RFC 6749 §2.3.1): ':' ' ' '+' '%' '&' '='.
const ODD_ID = 'svc:a+b%c&d=e';
const ODD_SECRET = 'a:b c+d%e&f=g/h?i#j — long enough to be a secret';

let server: TestServer;
let secret: string;

beforeAll(async () => {
  server = await startTestServer();
  secret = (await server.createClient({ id: 'service', grantTypes: ['client_credentials'], scopes: ['read'] })).clientSecret as string;
  await server.createClient({ id: ODD_ID, secret: ODD_SECRET, grantTypes: ['client_credentials'], scopes: ['read'] });
  await server.createClient({ id: 'spa', public: true, grantTypes: ['password'], scopes: ['read'] });
  await server.createUser({ username: 'alice', password: 'alice password', scopes: ['read'] });
});
afterAll(() => server.close());

function rawBasic(credentials: string): string {
  return `Basic ${Buffer.from(credentials).toString('base64')}`;
}

describe('client_secret_basic decodes the form-urlencoded id and secret', () => {
  it('authenticates a client with a plain id and secret', async () => {
    expect((await postToken(server, CC, { basic: ['service', secret] })).status).toBe(200);
  });

  it('authenticates a client whose id and secret need encoding', async () => {
    const response = await postToken(server, CC, { basic: [ODD_ID, ODD_SECRET] });
    expect(response.status).toBe(200);
    expect(response.body.access_token).toEqual(expect.any(String));
  });

  it('accepts %20 for a space as well as +', async () => {
    const encode = (value: string): string => encodeURIComponent(value);
    const response = await postToken(server, CC, { authorization: rawBasic(`${encode(ODD_ID)}:${encode(ODD_SECRET)}`) });
    expect(response.status).toBe(200);
  });

  it('does not accept the secret unencoded, since + then means a space', async () => {
    const response = await postToken(server, CC, { authorization: rawBasic(`${encodeURIComponent(ODD_ID)}:${ODD_SECRET}`) });
    expectOAuthError(response, 401, 'invalid_client');
  });

  it('accepts a client_id in the body that matches the Basic one', async () => {
    const response = await postToken(server, { ...CC, client_id: 'service' }, { basic: ['service', secret] });
    expect(response.status).toBe(200);
  });

  it('refuses a client_id in the body that differs from the Basic one', async () => {
    const response = await postToken(server, { ...CC, client_id: ODD_ID }, { basic: ['service', secret] });
    expectOAuthError(response, 400, 'invalid_request');
  });
});

describe('a failed Basic authentication is 401 invalid_client with a Basic challenge', () => {
  it.each([
    ['a wrong secret', () => rawBasic(`service:${secret}x`)],
    ['an unknown client', () => rawBasic(`nobody:${secret}`)],
    ['an empty secret', () => rawBasic('service:')],
    ['credentials without a colon', () => rawBasic('service')],
    ['an empty client id', () => rawBasic(`:${secret}`)],
    ['something that is not base64', () => 'Basic !!!not-base64!!!'],
    ['a bad percent-encoding', () => rawBasic(`service:%zz${secret}`)],
  ])('refuses %s', async (_name, header) => {
    const response = await postToken(server, CC, { authorization: header() });
    expectOAuthError(response, 401, 'invalid_client');
    expect(response.headers['www-authenticate']).toMatch(/^Basic\b/);
  });
});

describe('client_secret_post authenticates with client_id and client_secret in the body', () => {
  it('authenticates a client with its secret in the body', async () => {
    expect((await postToken(server, CC, { post: ['service', secret] })).status).toBe(200);
    expect((await postToken(server, CC, { post: [ODD_ID, ODD_SECRET] })).status).toBe(200);
  });

  it('refuses a wrong secret with 401 invalid_client and no Basic challenge', async () => {
    const response = await postToken(server, CC, { post: ['service', `${secret}x`] });
    expectOAuthError(response, 401, 'invalid_client');
    expect(response.headers['www-authenticate']).toBeUndefined();
  });

  it('refuses client_secret without client_id with invalid_request', async () => {
    expectOAuthError(await postToken(server, { ...CC, client_secret: secret }), 400, 'invalid_request');
  });
});

describe('public clients authenticate with client_id alone (none)', () => {
  it('accepts a public client presenting only its client_id', async () => {
    const response = await postToken(server, { grant_type: 'password', username: 'alice', password: 'alice password' }, { none: 'spa' });
    expect(response.status).toBe(200);
  });

  it('refuses a public client that presents a secret', async () => {
    const response = await postToken(
      server,
      { grant_type: 'password', username: 'alice', password: 'alice password' },
      { post: ['spa', 'some-secret-some-secret-some-secret'] },
    );
    expectOAuthError(response, 401, 'invalid_client');
  });

  it('refuses a confidential client presenting only its client_id', async () => {
    expectOAuthError(await postToken(server, CC, { none: 'service' }), 401, 'invalid_client');
  });

  it('refuses an unknown client_id', async () => {
    expectOAuthError(await postToken(server, CC, { none: 'nobody' }), 401, 'invalid_client');
  });
});

describe('a request uses exactly one client authentication method', () => {
  it('refuses Basic together with client_secret in the body with 400 invalid_request', async () => {
    const response = await postToken(server, { ...CC, client_secret: secret }, { basic: ['service', secret] });
    expectOAuthError(response, 400, 'invalid_request');
  });

  it('refuses a request without any client authentication with 401 invalid_client', async () => {
    expectOAuthError(await postToken(server, CC), 401, 'invalid_client');
    expectOAuthError(await postToken(server, { grant_type: 'password', username: 'alice', password: 'alice password' }), 401, 'invalid_client');
  });

  it('ignores a Bearer authorization header and still requires client authentication', async () => {
    const response = await postToken(server, CC, { authorization: 'Bearer abc' });
    expectOAuthError(response, 401, 'invalid_client');
  });
});
