import { Writable } from 'node:stream';
import pino from 'pino';
import { rawRequest, type RawResponse } from '../helpers/raw-http.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

/**
 * RFC 9110 §15.5.6: a method the server does not answer is 405 with `Allow`, in the RFC 6749 §5.2
 * JSON shape like every other refusal — never a 500 with a stack trace in the log.
 */

let server: TestServer;
const logLines: { level: number; msg?: string }[] = [];

beforeAll(async () => {
  const sink = new Writable({
    write(chunk, _encoding, done) {
      for (const line of chunk
        .toString()
        .split('\n')
        .filter((text: string) => text !== ''))
        logLines.push(JSON.parse(line));
      done();
    },
  });
  server = await startTestServer({ logger: pino({ level: 'info' }, sink) });
});
afterAll(() => server.close());

const errorLogLines = () => logLines.filter((line) => line.level >= 50);

function expectMethodNotAllowed(response: RawResponse, allow: string): void {
  expect(response.status).toBe(405);
  expect(response.headers['content-type']).toMatch(/^application\/json/);
  expect(response.headers.allow).toBe(allow);
  expect(JSON.parse(response.body)).toEqual({ error: 'method_not_allowed', error_description: expect.any(String) });
  expect(response.body).not.toMatch(/ at |\.ts:|\.js:/);
}

describe('methods no route uses are 405, on known and unknown paths', () => {
  const METHODS = ['TRACE', 'PROPFIND', 'SEARCH', 'PURGE', 'MKCOL', 'QUERY', 'LOCK', 'M-SEARCH'];
  const PATHS: [string, string][] = [
    ['/token', 'POST'],
    ['/admin/users', 'HEAD, GET, POST'],
    ['/admin/users/7d1f7a52-8c1e-4c5e-9d3a-2f1b0c9e8a77', 'HEAD, GET, PATCH, DELETE'],
    ['/healthz', 'HEAD, GET'],
    ['/no/such/path', ''],
    ['*', ''],
  ];

  it.each(METHODS)('%s answers 405 JSON with Allow, and logs nothing at error level', async (method) => {
    for (const [path, allow] of PATHS) expectMethodNotAllowed(await rawRequest(server.baseUrl, method, path), allow);
    expect(errorLogLines()).toEqual([]);
  });

  it('CONNECT, which Node hands to no route at all, is a 405 JSON answer too, not a dropped connection', async () => {
    for (const target of ['example.com:443', '/token']) expectMethodNotAllowed(await rawRequest(server.baseUrl, 'CONNECT', target), '');
    expect(errorLogLines()).toEqual([]);
  });
});

describe('a routed method on a path that does not take it', () => {
  it('is 405 with the methods the path does take', async () => {
    expectMethodNotAllowed(await rawRequest(server.baseUrl, 'PUT', '/token'), 'POST');
    expectMethodNotAllowed(await rawRequest(server.baseUrl, 'DELETE', '/.well-known/jwks.json'), 'HEAD, GET');
    expectMethodNotAllowed(await rawRequest(server.baseUrl, 'POST', '/admin/users/7d1f7a52-8c1e-4c5e-9d3a-2f1b0c9e8a77'), 'HEAD, GET, PATCH, DELETE');
    const head = await rawRequest(server.baseUrl, 'HEAD', '/token');
    expect(head.status).toBe(405);
    expect(head.headers.allow).toBe('POST');
  });

  it('OPTIONS lists them on a path that exists, and is a JSON 404 on one that does not', async () => {
    const options = await rawRequest(server.baseUrl, 'OPTIONS', '/introspect');
    expect(options.status).toBe(204);
    expect(options.headers.allow).toBe('POST');
    const unknown = await rawRequest(server.baseUrl, 'OPTIONS', '/no/such/path');
    expect(unknown.status).toBe(404);
    expect(JSON.parse(unknown.body).error).toBe('not_found');
  });
});

describe('method tokens Node itself refuses to parse', () => {
  // Methods are case-sensitive (RFC 9110 §9.1): `get` is not GET. Node's parser knows neither
  // these nor any method outside its list; the answer is still the 405 of the path.
  it.each([
    ['get', '/token', 'POST'],
    ['Post', '/introspect', 'POST'],
    ['FOO', '/admin/users/7d1f7a52-8c1e-4c5e-9d3a-2f1b0c9e8a77?x=1', 'HEAD, GET, PATCH, DELETE'],
    ['BREW', '/no/such/path', ''],
  ])('%s %s is a 405 JSON answer with the Allow of the path', async (method, target, allow) => {
    expectMethodNotAllowed(await rawRequest(server.baseUrl, method, target), allow);
  });

  it('an absolute-form target too, and a request line that is not HTTP stays a 400', async () => {
    expectMethodNotAllowed(await rawRequest(server.baseUrl, 'FOO', `${server.baseUrl}/.well-known/jwks.json`), 'HEAD, GET');
    const garbage = await rawRequest(server.baseUrl, 'THIS IS', 'NOT');
    expect(garbage.status).toBe(400);
    expect(JSON.parse(garbage.body).error).toBe('invalid_request');
  });
});

describe('after all that', () => {
  it('the server still answers, and has logged no error', async () => {
    expect((await server.http.get('/healthz')).status).toBe(200);
    expect(errorLogLines()).toEqual([]);
  });
});
