import { jest } from '@jest/globals';
import pino from 'pino';
import type { Response } from 'supertest';
import { lineCollector } from '../helpers/log.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

/**
 * The JWKS and the metadata are answered in the request listener, before Koa
 * (src/http/documents-before-koa.ts). Their answers must be the ones Koa gives: an ISSUER with a
 * path serves the same documents at /auth/.well-known/jwks.json and
 * /.well-known/oauth-authorization-server/auth (RFC 8414 §3.1) through Koa (paths the listener does
 * not answer), so each request below goes both ways and the answers are compared.
 */
const BEFORE_KOA = '/.well-known/jwks.json';
const THROUGH_KOA = '/auth/.well-known/jwks.json';
const METADATA_BEFORE_KOA = '/.well-known/oauth-authorization-server';
const METADATA_THROUGH_KOA = '/.well-known/oauth-authorization-server/auth';
/** Moved forward by the tests: the metadata is read again once it is older than 10 s. */
let clockOffsetMs = 0;
const clock = { now: () => new Date(Date.now() + clockOffsetMs) };

/** Status, body and headers of an answer, without what differs per answer (Date, a new request id). */
function comparable(answer: Response): { status: number; body: string; headers: Record<string, string> } {
  const headers = Object.fromEntries(Object.entries(answer.headers as Record<string, string>).filter(([name]) => name !== 'date' && name !== 'x-request-id'));
  return { status: answer.status, body: answer.text ?? '', headers };
}

describe('the documents answered before Koa are the answers Koa gives', () => {
  const lines: string[] = [];
  let server: TestServer;
  let withCors: TestServer;
  const etags = new Map<string, string>();
  beforeAll(async () => {
    server = await startTestServer({ issuerPath: '/auth', clock, logger: pino({ level: 'info' }, lineCollector(lines)), env: { TRUST_PROXY: 'true' } });
    withCors = await startTestServer({ issuerPath: '/auth', env: { CORS_ORIGINS: 'https://app.example' } });
    etags.set(BEFORE_KOA, (await server.http.get(BEFORE_KOA)).headers.etag as string);
    // The first metadata request reads the scopes (through Koa); later ones are answered before it.
    etags.set(METADATA_BEFORE_KOA, (await server.http.get(METADATA_BEFORE_KOA)).headers.etag as string);
  });
  afterAll(async () => {
    await server.close();
    await withCors.close();
  });

  const requests: [string, (path: string, etag: string) => Promise<Response>][] = [
    ['GET', (path) => server.http.get(path)],
    ['GET with a query', (path) => server.http.get(`${path}?x=1`)],
    ['HEAD', (path) => server.http.head(path)],
    ['GET with the current ETag (304)', (path, etag) => server.http.get(path).set('If-None-Match', `"other", W/${etag}`)],
    ['HEAD with the current ETag (304)', (path, etag) => server.http.head(path).set('If-None-Match', etag)],
    ['GET with a stale ETag', (path) => server.http.get(path).set('If-None-Match', '"stale"')],
  ];
  const documents: [string, string, string][] = [
    ['the JWKS', BEFORE_KOA, THROUGH_KOA],
    ['the metadata', METADATA_BEFORE_KOA, METADATA_THROUGH_KOA],
  ];

  it.each(documents.flatMap(([document, beforeKoa, throughKoa]) => requests.map(([name, send]) => [document, name, send, beforeKoa, throughKoa] as const)))(
    '%s, %s: same status, headers and body',
    async (_document, _name, send, beforeKoa, throughKoa) => {
      const etag = etags.get(beforeKoa) as string;
      const createContext = jest.spyOn(server.app, 'createContext');
      const before = await send(beforeKoa, etag);
      expect(createContext).not.toHaveBeenCalled();
      const through = await send(throughKoa, etag);
      expect(createContext).toHaveBeenCalledTimes(1);
      createContext.mockRestore();
      expect(comparable(before)).toEqual(comparable(through));
      expect(before.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    },
  );

  it('the metadata once older than 10 s goes to Koa, which reads it again; then it is answered before Koa again', async () => {
    const createContext = jest.spyOn(server.app, 'createContext');
    try {
      clockOffsetMs += 11_000;
      expect((await server.http.get(METADATA_BEFORE_KOA)).status).toBe(200);
      expect(createContext).toHaveBeenCalledTimes(1);
      expect((await server.http.get(METADATA_BEFORE_KOA)).status).toBe(200);
      expect(createContext).toHaveBeenCalledTimes(1);
    } finally {
      createContext.mockRestore();
    }
  });

  it('stale metadata asked for by many requests at once is read again once', async () => {
    clockOffsetMs += 11_000;
    let statements = 0;
    const onQuery = (): void => void statements++;
    server.deps.db.on('query', onQuery);
    try {
      const answers = await Promise.all(Array.from({ length: 10 }, () => server.http.get(METADATA_BEFORE_KOA)));
      expect(answers.map((answer) => answer.status)).toEqual(Array(10).fill(200));
    } finally {
      server.deps.db.off('query', onQuery);
    }
    expect(statements).toBe(1);
  });

  it('with CORS_ORIGINS: the same answer (Vary: Origin), and a request with an Origin goes to Koa for its CORS headers', async () => {
    const [before, through] = [await withCors.http.get(BEFORE_KOA), await withCors.http.get(THROUGH_KOA)];
    expect(comparable(before)).toEqual(comparable(through));
    expect(before.headers.vary).toBe('Origin');
    const fromApp = await withCors.http.get(BEFORE_KOA).set('Origin', 'https://app.example');
    expect(fromApp.headers['access-control-allow-origin']).toBe('https://app.example');
  });

  it('echoes a sane X-Request-Id and logs the request as Koa does: route, status, request id, the client IP', async () => {
    lines.length = 0;
    const answer = await server.http.get(BEFORE_KOA).set('X-Request-Id', 'trace-jwks').set('X-Forwarded-For', '203.0.113.7, 198.51.100.9');
    await server.http.get(THROUGH_KOA).set('X-Request-Id', 'trace-koa').set('X-Forwarded-For', '203.0.113.7, 198.51.100.9');
    expect(answer.headers['x-request-id']).toBe('trace-jwks');
    const logged = lines.map((line) => JSON.parse(line) as Record<string, unknown>).filter((entry) => entry.msg === 'request');
    const fields = (entry: Record<string, unknown> | undefined) => ({
      ...entry,
      requestId: undefined,
      time: undefined,
      durationMs: undefined,
      route: undefined,
      path: undefined,
    });
    const beforeKoa = logged.find((entry) => entry.requestId === 'trace-jwks');
    const throughKoa = logged.find((entry) => entry.requestId === 'trace-koa');
    expect(beforeKoa).toMatchObject({ method: 'GET', route: BEFORE_KOA, path: BEFORE_KOA, status: 200, ip: '198.51.100.9' });
    expect(typeof beforeKoa?.durationMs).toBe('number');
    expect(fields(beforeKoa)).toEqual(fields(throughKoa));
  });

  it('leaves to Koa what it does not answer: other methods, other paths, a draining server', async () => {
    const createContext = jest.spyOn(server.app, 'createContext');
    try {
      expect((await server.http.post(BEFORE_KOA)).status).toBe(405);
      // The router is not strict about a trailing slash; the listener answers the exact path only.
      expect((await server.http.get(`${BEFORE_KOA}/`)).status).toBe(200);
      server.app.draining = true;
      const answer = await server.http.get(BEFORE_KOA);
      expect(answer.status).toBe(200);
      expect(answer.headers.connection).toBe('close');
      expect(createContext).toHaveBeenCalledTimes(3);
    } finally {
      server.app.draining = false;
      createContext.mockRestore();
    }
  });

  it('leaves a failure to read the document to Koa: a 500 in the JSON error shape, and the server goes on', async () => {
    const jwks = jest.spyOn(server.deps.keys, 'jwks').mockImplementation(() => {
      throw new Error('keys not loaded');
    });
    try {
      const answer = await server.http.get(BEFORE_KOA);
      expect(answer.status).toBe(500);
      expect(answer.body).toEqual({ error: 'server_error', error_description: 'the server could not complete the request' });
    } finally {
      jwks.mockRestore();
    }
    expect((await server.http.get(BEFORE_KOA)).status).toBe(200);
  });
});
