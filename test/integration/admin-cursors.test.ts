import pino from 'pino';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { lineCollector } from '../helpers/log.js';
import { adminToken, passwordTokens } from '../helpers/token.js';

/**
 * Pagination cursors are opaque to callers but not to the database: each list checks that its
 * cursor holds a value its sort column takes, and refuses anything else with 400 invalid_request
 * before a query runs (a bigint compared with "abc", or a date PostgreSQL cannot represent, used to
 * fail the query: a 500 with a stack trace in the log).
 */

let server: TestServer;
let auth: string;
const errorLogLines: string[] = [];

const cursorOf = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url');
const UUID = '7d1f7a52-8c1e-4c5e-9d3a-2f1b0c9e8a77';

beforeAll(async () => {
  const sink = lineCollector(errorLogLines);
  server = await startTestServer({ logger: pino({ level: 'error' }, sink) });
  auth = `Bearer ${await adminToken(server, ['admin:tokens', 'admin:clients', 'admin:users'], 'cursor-admin')}`;
  const client = await server.createClient({ id: 'cursor-app' });
  for (const name of ['ann', 'ben', 'cat']) {
    const user = await server.createUser({ username: name });
    await passwordTokens(server, client, user);
    // Admin actions, so the audit log has pages.
    await server.http.post('/admin/revocations').set('Authorization', auth).send({ username: name });
    await passwordTokens(server, client, user);
  }
  await server.createClient({ id: 'cursor-other' });
});
afterAll(() => server.close());

const list = (path: string, query: Record<string, string>) => server.http.get(path).query(query).set('Authorization', auth);

const LISTS = ['/admin/audit', '/admin/grants', '/admin/clients', '/admin/users'];

describe('cursors the lists give out', () => {
  it.each(LISTS)('%s walks every page with limit=1', async (path) => {
    const all = await list(path, { limit: '200' });
    expect(all.status).toBe(200);
    expect(all.body.items.length).toBeGreaterThanOrEqual(3);
    const walked: unknown[] = [];
    let cursor: string | null = null;
    do {
      const response = await list(path, cursor === null ? { limit: '1' } : { limit: '1', cursor });
      expect(response.status).toBe(200);
      walked.push(...response.body.items);
      cursor = response.body.next_cursor;
    } while (cursor !== null);
    expect(walked).toEqual(all.body.items);
  });
});

describe('cursors no list gave out are 400 invalid_request, never a 500', () => {
  const cases: [string, string[]][] = [
    [
      '/admin/audit',
      [
        cursorOf('abc'),
        cursorOf('-1'),
        cursorOf('0'),
        cursorOf('1.5'),
        cursorOf(' 1'),
        cursorOf('9223372036854775808'),
        cursorOf('99999999999999999999'),
        cursorOf(1),
        cursorOf(null),
      ],
    ],
    [
      '/admin/grants',
      [
        cursorOf(['-004714-11-23T00:00:00Z', UUID]),
        cursorOf(['-004714-11-23T00:00:00.000Z', UUID]),
        cursorOf(['+275760-09-13T00:00:00.000Z', UUID]),
        cursorOf(['1969-12-31T23:59:59.999Z', UUID]),
        cursorOf(['2021-02-30T00:00:00.000Z', UUID]),
        cursorOf(['2021', UUID]),
        cursorOf(['Tue Mar 01 2022', UUID]),
        cursorOf(['2021-01-01T00:00:00.000Z', 'not-a-uuid']),
        cursorOf(['2021-01-01T00:00:00.000Z', 7]),
        cursorOf(['2021-01-01T00:00:00.000Z']),
        cursorOf('abc'),
      ],
    ],
    ['/admin/clients', [cursorOf('\ud800'), cursorOf(''), cursorOf('x'.repeat(256)), cursorOf(['a', 'b']), cursorOf(1)]],
    ['/admin/users', [cursorOf('a\udfffb'), cursorOf(''), cursorOf({ username: 'ann' }), cursorOf(true)]],
  ];

  it.each(cases)('%s', async (path, cursors) => {
    for (const cursor of [...cursors, 'not base64url!', '%00', 'e30=', '====']) {
      const response = await list(path, { cursor });
      expect({ cursor, status: response.status, error: response.body.error }).toEqual({ cursor, status: 400, error: 'invalid_request' });
    }
    expect(errorLogLines).toEqual([]);
  });
});
