import { connect } from 'node:net';
import { describeWithPostgres } from '../helpers/database.js';
import { freePorts, PROCESS_TEST_TIMEOUT_MS, startServerProcess, type ServerProcess } from '../helpers/process.js';
import { postgresTarget, type ProcessTarget } from '../helpers/targets.js';

/** What only the real server process does: answers requests Node cannot parse, and migrates safely when started twice at once. */

function rawRequest(port: number, text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    let answer = '';
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => (answer += chunk));
    socket.on('end', () => resolve(answer));
    socket.on('error', reject);
    socket.write(text);
  });
}

describeWithPostgres('the server process', () => {
  let target: ProcessTarget;
  const started: ServerProcess[] = [];

  beforeAll(async () => {
    target = await postgresTarget();
    // Two instances on a brand-new database at the same moment: both must migrate and serve.
    const ports = await freePorts(2);
    started.push(...(await Promise.all(ports.map((port) => startServerProcess(target.env, { port })))));
  }, PROCESS_TEST_TIMEOUT_MS);

  afterAll(async () => {
    for (const server of started) await server.kill();
    await target?.dispose();
  });

  it('starts twice at once on a new database (the migration race is retried)', async () => {
    for (const server of started) {
      expect((await fetch(`${server.baseUrl}/readyz`)).status).toBe(200);
    }
  });

  it('answers oversized headers with a JSON 431 and malformed HTTP with a JSON 400', async () => {
    const port = (started[0] as ServerProcess).port;
    const huge = await rawRequest(port, `GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`);
    expect(huge).toMatch(/^HTTP\/1\.1 431/);
    expect(JSON.parse(huge.split('\r\n\r\n')[1] as string)).toMatchObject({ error: 'invalid_request' });
    const garbage = await rawRequest(port, 'THIS IS NOT HTTP\r\n\r\n');
    expect(garbage).toMatch(/^HTTP\/1\.1 400/);
    expect(JSON.parse(garbage.split('\r\n\r\n')[1] as string)).toMatchObject({ error: 'invalid_request' });
  });
});
