import { Agent, request as httpRequest } from 'node:http';
import { connect } from 'node:net';
import { systemClock } from '../../src/lib/clock.js';
import { CLI_ACTOR } from '../../src/services/actor.js';
import { createClient } from '../../src/services/clients.js';
import { createUser } from '../../src/services/users.js';
import { closeDatabase, openDatabase } from '../../src/store/database.js';
import { migrateToLatest } from '../../src/store/migrate.js';
import { createPostgresDatabase, ensureBuilt, freePort, startServerProcess, type PostgresDatabase, type ServerProcess } from '../helpers/process.js';
import { basicAuth } from '../helpers/server.js';

/**
 * SIGTERM and SIGINT: the real server stops accepting connections, finishes what is in flight,
 * closes its pool and exits 0.
 */

const IN_FLIGHT = 10;
const EXIT_BOUND_MS = 12_000;

let database: PostgresDatabase;
let client: { id: string; secret: string };
const user = { username: 'shutdown-alice', password: 'shutdown-alice password' };
const started: ServerProcess[] = [];
const agents: Agent[] = [];

beforeAll(async () => {
  await ensureBuilt();
  database = await createPostgresDatabase();
  const db = openDatabase({ databaseUrl: database.url });
  try {
    await migrateToLatest(db);
    const created = await createClient(db, systemClock, { id: 'shutdown-app', grantTypes: ['password', 'refresh_token'], scopes: ['read'] }, CLI_ACTOR);
    client = { id: created.client.id, secret: created.clientSecret as string };
    await createUser(db, systemClock, { ...user, scopes: ['read'] }, { passwordMinLength: 8 }, CLI_ACTOR);
  } finally {
    await closeDatabase(db);
  }
}, 180_000);

afterAll(async () => {
  for (const agent of agents) agent.destroy();
  for (const server of started) await server.kill();
  await database?.drop();
});

/** A password grant (an argon2 verification, about 100 ms of work) over `agent`'s connections. */
function passwordGrant(port: number, agent: Agent): Promise<{ status: number; body: Record<string, unknown> }> {
  const body = new URLSearchParams({ grant_type: 'password', username: user.username, password: user.password }).toString();
  return send(port, agent, 'POST', '/token', body);
}

function send(port: number, agent: Agent, method: string, path: string, body?: string): Promise<{ status: number; body: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const request = httpRequest({ host: '127.0.0.1', port, method, path, agent, headers: body ? { Authorization: basicAuth(client.id, client.secret), 'Content-Type': 'application/x-www-form-urlencoded' } : {} }, (response) => {
      let text = '';
      response.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body: JSON.parse(text) as Record<string, unknown> }));
    });
    request.on('error', reject);
    request.end(body);
  });
}

/** Resolves with the error code of a TCP connection attempt, or 'connected'. */
function tryConnect(port: number): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve('connected');
    });
    socket.once('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? 'error'));
  });
}

describe.each(['SIGTERM', 'SIGINT'] as const)('on %s the server drains and exits 0', (signal) => {
  test('requests in flight complete with 200, new connections are refused, the process exits 0 in time', async () => {
    const port = await freePort();
    const server = await startServerProcess(database.url, port);
    started.push(server);

    // Keep-alive connections the server has already accepted (each answered /healthz), so the
    // requests below are surely in the server's hands when the signal comes.
    const agent = new Agent({ keepAlive: true, maxSockets: IN_FLIGHT });
    agents.push(agent);
    await Promise.all(Array.from({ length: IN_FLIGHT }, () => send(port, agent, 'GET', '/healthz')));
    const inFlight = Array.from({ length: IN_FLIGHT }, () => passwordGrant(port, agent));
    // argon2 runs four at a time: when the first answer is back, the others are being worked on.
    await Promise.race(inFlight);
    const signalled = Date.now();
    server.child.kill(signal);

    // The listener closes as soon as the signal is handled: new connections are refused from then on.
    // Until then a connection may still be accepted, or reset if it sat in the kernel's backlog
    // when the listener closed: try again until the answer settles.
    const unsettled = (answer: string): boolean => answer === 'connected' || answer === 'ECONNRESET';
    let newConnection = await tryConnect(port);
    for (const deadline = Date.now() + 3000; unsettled(newConnection) && Date.now() < deadline; ) {
      await new Promise((r) => setTimeout(r, 20));
      newConnection = await tryConnect(port);
    }

    const answers = await Promise.all(inFlight);
    // The first one came back before the signal; the rest were in flight.
    for (const answer of answers) {
      expect(answer.status).toBe(200);
      expect(typeof answer.body.access_token).toBe('string');
    }
    expect(newConnection).toBe('ECONNREFUSED');

    const exit = await Promise.race([
      server.exited,
      new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), EXIT_BOUND_MS)),
    ]);
    expect(exit).toEqual({ code: 0, signal: null });
    if (process.env.DEBUG_SHUTDOWN) process.stderr.write(`${signal}: exited ${Date.now() - signalled} ms after the signal\n`);
    expect(server.stderr()).toBe('');
  }, 40_000);
});
