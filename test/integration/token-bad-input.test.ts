import { gzipSync } from 'node:zlib';
import type { Response } from 'supertest';
import { basicAuth, startTestServer, type TestServer } from '../helpers/server.js';

let server: TestServer;
let authorization: string;
const FORM = 'application/x-www-form-urlencoded';

beforeAll(async () => {
  server = await startTestServer();
  const secret = (await server.createClient({ id: 'app', grantTypes: ['password', 'refresh_token', 'client_credentials'], scopes: ['read'] }))
    .clientSecret as string;
  authorization = basicAuth('app', secret);
  await server.createUser({ username: 'alice', password: 'alice password', scopes: ['read'] });
});
afterAll(() => server.close());

/** Posts a raw body to /token as the `app` client. */
function postRaw(body: string | Buffer | undefined, contentType: string | undefined, headers: Record<string, string> = {}): Promise<Response> {
  const request = server.http.post('/token').set('Authorization', authorization).set(headers);
  if (contentType !== undefined) request.set('Content-Type', contentType);
  return body === undefined ? request : request.send(body);
}

/** Every refusal: a 4xx RFC 6749 §5.2 JSON body, not cached, with no trace of internals. */
function expectClientError(response: Response, status: number, error = 'invalid_request'): void {
  expect({ status: response.status, error: response.body?.error }).toEqual({ status, error });
  expect(response.headers['content-type']).toMatch(/^application\/json/);
  expect(typeof response.body.error_description).toBe('string');
  expect(response.headers['cache-control']).toBe('no-store');
  expect(response.text).not.toMatch(/ at .*\.(ts|js):\d+/);
}

describe('/token requires a supported grant_type', () => {
  it('refuses a request without grant_type with invalid_request', async () => {
    expectClientError(await postRaw('scope=read', FORM), 400);
  });

  it.each(['authorization_code', 'implicit', 'urn:ietf:params:oauth:grant-type:device_code', 'PASSWORD', '__proto__', 'constructor'])(
    'refuses grant_type=%s with unsupported_grant_type',
    async (grantType) => {
      expectClientError(await postRaw(new URLSearchParams({ grant_type: grantType }).toString(), FORM), 400, 'unsupported_grant_type');
    },
  );
});

describe('/token accepts only application/x-www-form-urlencoded bodies', () => {
  it('accepts a charset parameter on the content type', async () => {
    const response = await postRaw('grant_type=client_credentials', `${FORM}; charset=UTF-8`);
    expect(response.status).toBe(200);
  });

  it.each([
    ['a JSON body', JSON.stringify({ grant_type: 'client_credentials' }), 'application/json'],
    ['a text/plain body', 'grant_type=client_credentials', 'text/plain'],
    ['a multipart body', '--x\r\nContent-Disposition: form-data; name="grant_type"\r\n\r\nclient_credentials\r\n--x--\r\n', 'multipart/form-data; boundary=x'],
    ['no body at all', undefined, undefined],
    ['an empty form body', '', FORM],
  ])('refuses %s with a 4xx JSON error', async (_name, body, contentType) => {
    const response = await postRaw(body, contentType);
    expect(response.status).toBeGreaterThanOrEqual(400);
    expect(response.status).toBeLessThan(500);
    expectClientError(response, response.status);
  });

  it('refuses a body over 16 KiB with 413', async () => {
    const body = `grant_type=client_credentials&padding=${'a'.repeat(17 * 1024)}`;
    expectClientError(await postRaw(body, FORM), 413);
  });

  it('refuses a compressed body that inflates past 16 KiB with 413', async () => {
    // Over a real socket: supertest re-encodes Buffer bodies.
    const compressed = (text: string): Promise<globalThis.Response> =>
      fetch(`${server.baseUrl}/token`, {
        method: 'POST',
        headers: { Authorization: authorization, 'Content-Type': FORM, 'Content-Encoding': 'gzip' },
        body: gzipSync(text),
      });
    const small = await compressed('grant_type=client_credentials');
    expect(small.status).toBe(200);
    const bomb = await compressed(`grant_type=client_credentials&padding=${'a'.repeat(1024 * 1024)}`);
    expect(bomb.status).toBe(413);
    expect(bomb.headers.get('cache-control')).toBe('no-store');
    expect(await bomb.json()).toMatchObject({ error: 'invalid_request', error_description: expect.any(String) });
  });

  it('refuses an unknown content encoding with a 4xx JSON error', async () => {
    const response = await postRaw('grant_type=client_credentials', FORM, { 'Content-Encoding': 'bogus' });
    expect(response.status).toBeGreaterThanOrEqual(400);
    expect(response.status).toBeLessThan(500);
    expectClientError(response, response.status);
  });
});

describe('/token refuses malformed parameters with invalid_request', () => {
  it('refuses a repeated parameter', async () => {
    expectClientError(await postRaw('grant_type=password&username=alice&username=mallory&password=alice%20password', FORM), 400);
    expectClientError(await postRaw('grant_type=client_credentials&grant_type=client_credentials', FORM), 400);
    expectClientError(await postRaw('grant_type=client_credentials&scope=read&scope=', FORM), 400);
  });

  it('refuses NUL bytes in a value or a name', async () => {
    expectClientError(await postRaw('grant_type=password&username=alice%00&password=alice%20password', FORM), 400);
    expectClientError(await postRaw('grant_type=password&username=alice&password=alice%20password%00', FORM), 400);
    expectClientError(await postRaw('grant_type=client_credentials&sc%00ope=read', FORM), 400);
  });

  it('refuses bytes that are not UTF-8', async () => {
    expectClientError(await postRaw('grant_type=password&username=%FF%FE&password=x', FORM), 400);
  });

  it('refuses a huge username, password, scope or refresh token', async () => {
    const huge = 'x'.repeat(8000);
    expectClientError(await postRaw(new URLSearchParams({ grant_type: 'password', username: huge, password: 'p' }).toString(), FORM), 400);
    expectClientError(await postRaw(new URLSearchParams({ grant_type: 'password', username: 'alice', password: huge }).toString(), FORM), 400);
    expectClientError(await postRaw(new URLSearchParams({ grant_type: 'client_credentials', scope: huge }).toString(), FORM), 400);
    expectClientError(await postRaw(new URLSearchParams({ grant_type: 'refresh_token', refresh_token: huge }).toString(), FORM), 400);
  });

  it('treats an empty required parameter as missing', async () => {
    expectClientError(await postRaw('grant_type=password&username=&password=x', FORM), 400);
    expectClientError(await postRaw('grant_type=refresh_token&refresh_token=', FORM), 400);
  });

  it('survives parameter names that are object keys in JavaScript', async () => {
    const response = await postRaw('grant_type=client_credentials&__proto__=x&constructor=y&toString=z&hasOwnProperty=w', FORM);
    expect(response.status).toBe(200);
  });

  it('refuses unknown users with odd names as invalid_grant, not as a server error', async () => {
    for (const username of ['ålice', "alice' OR '1'='1", ' alice', 'alice\u202e', '😀'.repeat(50)]) {
      const response = await postRaw(new URLSearchParams({ grant_type: 'password', username, password: 'alice password' }).toString(), FORM);
      expectClientError(response, 400, 'invalid_grant');
    }
  });
});

describe('/token answers only POST', () => {
  it('answers GET with a 405 JSON error', async () => {
    const response = await server.http.get('/token');
    expect(response.status).toBe(405);
    expect(response.body.error).toEqual(expect.any(String));
    expect(response.headers['cache-control']).toBe('no-store');
  });
});
