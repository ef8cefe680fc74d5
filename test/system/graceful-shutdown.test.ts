import { Agent, request as httpRequest } from 'node:http';
import { connect } from 'node:net';
import { describeWithPostgres } from '../helpers/database.js';
import { PROCESS_TEST_TIMEOUT_MS, startServerProcess, type ServerProcess } from '../helpers/process.js';
import { postgresTarget, seedTarget, type ProcessTarget } from '../helpers/targets.js';
import { tokenRequest, type TestClientAuth } from '../helpers/token.js';

/**
 * SIGTERM and SIGINT: the real server stops accepting connections, finishes what is in flight,
 * closes its pool and exits 0.
 */

const IN_FLIGHT = 10;
const EXIT_BOUND_MS = 12_000;

let target: ProcessTarget;
let client: TestClientAuth;
const user = { username: 'shutdown-alice', password: 'shutdown-alice password' };
const started: ServerProcess[] = [];
const agents: Agent[] = [];

/** A password grant (an argon2 verification, about 100 ms of work) over `agent`'s connections. */
function passwordGrant(port: number, agent: Agent): Promise<{ status: number; body: Record<string, unknown>; connection: string | undefined }> {
  const { headers, body } = tokenRequest({ grant_type: 'password', username: user.username, password: user.password }, client);
  return send(port, agent, 'POST', '/token', body, headers);
}

/** One request over `agent`'s keep-alive connections (node:http, since fetch cannot choose them). */
function send(
  port: number,
  agent: Agent,
  method: string,
  path: string,
  body?: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: Record<string, unknown>; connection: string | undefined }> {
  return new Promise((resolve, reject) => {
    const request = httpRequest({ host: '127.0.0.1', port, method, path, agent, headers }, (response) => {
      let text = '';
      response.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
      response.on('end', () =>
        resolve({ status: response.statusCode ?? 0, body: JSON.parse(text) as Record<string, unknown>, connection: response.headers.connection }),
      );
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

/** One database, one client and one user for both signals, made by whichever runs first. */
let setUp: Promise<void> | undefined;
function seed(): Promise<void> {
  setUp ??= (async () => {
    target = await postgresTarget();
    const secrets = await seedTarget(target, {
      clients: [{ id: 'shutdown-app', grantTypes: ['password', 'refresh_token'], scopes: ['read'] }],
      users: [{ ...user, scopes: ['read'] }],
    });
    client = { basic: ['shutdown-app', secrets['shutdown-app'] as string] };
  })();
  return setUp;
}

afterAll(async () => {
  for (const agent of agents) agent.destroy();
  for (const server of started) await server.kill();
  await target?.dispose();
});

for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  describeWithPostgres(`on ${signal} the server drains and exits 0`, () => {
    beforeAll(seed, PROCESS_TEST_TIMEOUT_MS);

    test(
      'requests in flight complete with 200, new connections are refused, the process exits 0 in time',
      async () => {
        // Info logs, to see the moment the signal is handled.
        const server = await startServerProcess({ ...target.env, LOG_LEVEL: 'info' });
        const port = server.port;
        started.push(server);

        // Keep-alive connections the server has already accepted (each answered /healthz), so the
        // requests below are surely in the server's hands when the signal comes.
        const agent = new Agent({ keepAlive: true, maxSockets: IN_FLIGHT });
        agents.push(agent);
        await Promise.all(Array.from({ length: IN_FLIGHT }, () => send(port, agent, 'GET', '/healthz')));
        const inFlight = Array.from({ length: IN_FLIGHT }, () => passwordGrant(port, agent));
        const inOrder: { connection: string | undefined }[] = [];
        for (const answer of inFlight) void answer.then((done) => inOrder.push(done));
        // argon2 runs four at a time: when the first answer is back, the others are being worked on.
        await Promise.race(inFlight);
        const signalled = Date.now();
        server.child.kill(signal);

        // The listener closes as the signal is handled (the server logs it just before): new
        // connections are refused from then on. A connection made in the moment between may still be
        // accepted, or reset if it sat in the kernel's backlog when the listener closed: try again
        // until the answer settles.
        await server.waitForLogLines(/"msg":"shutting down"/);
        const unsettled = (answer: string): boolean => answer === 'connected' || answer === 'ECONNRESET';
        let newConnection = await tryConnect(port);
        for (const deadline = Date.now() + 3000; unsettled(newConnection) && Date.now() < deadline;) {
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
        // The last answer was surely still being worked on at the signal: it asks its client to close
        // the connection (RFC 9112 §9.6), since the server is about to.
        expect(inOrder.at(-1)?.connection).toBe('close');

        const exit = await Promise.race([server.exited, new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), EXIT_BOUND_MS))]);
        expect(exit).toEqual({ code: 0, signal: null });
        if (process.env.DEBUG_SHUTDOWN) process.stderr.write(`${signal}: exited ${Date.now() - signalled} ms after the signal\n`);
        expect(server.stderr()).toBe('');
      },
      PROCESS_TEST_TIMEOUT_MS,
    );
  });
}
