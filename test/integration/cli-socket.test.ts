import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { serveCliSocket } from '../../src/cli/serve-socket.js';
import { cliSocketPath, MAX_REQUEST_BYTES, sendToServer } from '../../src/cli/socket.js';
import { lineCollector } from '../helpers/log.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { postTokenTo } from '../helpers/token.js';

/**
 * The server side of the CLI socket, in-process on a test server's services: a command runs on the
 * server's own database and answers {stdout, stderr, code}; anything malformed gets an error
 * answer, and the socket goes on serving.
 */
describe('the CLI socket of a server', () => {
  const lines: string[] = [];
  let server: TestServer;
  let directory: string;
  let path: string;
  let socket: { close(): Promise<void> };

  beforeAll(async () => {
    server = await startTestServer();
    directory = mkdtempSync(join(tmpdir(), 'gatehouse-socket-'));
    path = cliSocketPath(directory);
    socket = await serveCliSocket(Promise.resolve(server.deps), pino({ level: 'info' }, lineCollector(lines)), path);
  });
  afterAll(async () => {
    await socket?.close();
    await server?.close();
    rmSync(directory, { recursive: true, force: true });
  });

  /** Sends raw bytes, half-closes, and returns the answer as parsed JSON. */
  const raw = (bytes: string | Buffer): Promise<{ stdout: string; stderr: string; code: number }> =>
    new Promise((done, fail) => {
      const client = connect(path);
      let answer = '';
      client.on('data', (chunk) => (answer += chunk.toString()));
      client.on('end', () => done(JSON.parse(answer)));
      client.on('error', fail);
      client.end(bytes);
    });

  it('is a socket only its owner may use, in a private directory', () => {
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(statSync(directory).mode & 0o777).toBe(0o700);
  });

  it('runs a command on the server: a client it creates gets a token at once; the log names the command, not its secret', async () => {
    const created = await sendToServer(path, {
      argv: ['client', 'create', '--id', 'over-socket', '--grants', 'client_credentials', '--scopes', 'reports', '--json'],
      stdin: null,
      files: {},
    });
    expect(created).toMatchObject({ code: 0, stderr: '' });
    const { client_secret: secret } = JSON.parse(created?.stdout ?? '{}');
    expect((await postTokenTo(server.baseUrl, { grant_type: 'client_credentials' }, { basic: ['over-socket', secret] })).status).toBe(200);
    expect(lines.join('\n')).toMatch(/"command":"client create","code":0/);
    expect(lines.join('\n')).not.toContain(secret);
  });

  it('takes standard input and named files from the request, never from the server’s own disk', async () => {
    const user = await sendToServer(path, {
      argv: ['user', 'create', '--username', 'sam', '--password-stdin', '--scopes', 'read', '--json'],
      stdin: 'sam password\n',
      files: {},
    });
    expect(user).toMatchObject({ code: 0, stderr: '' });
    const imported = await sendToServer(path, {
      argv: ['user', 'import', 'people.csv', '--json'],
      stdin: null,
      files: { 'people.csv': 'username,password\nkim,kim password\n' },
    });
    expect(JSON.parse(imported?.stdout ?? '{}')).toEqual({ created: 1, failed: [] });
    const notSent = await sendToServer(path, { argv: ['user', 'import', '/etc/passwd'], stdin: null, files: {} });
    expect(notSent).toEqual({ stdout: '', stderr: 'gatehouse: /etc/passwd: the file was not sent with the command\n', code: 1 });
  });

  it('refuses keys reencrypt, and answers usage errors as the CLI does', async () => {
    const reencrypt = await sendToServer(path, { argv: ['keys', 'reencrypt', '--old-secret-stdin'], stdin: 'an old secret', files: {} });
    expect(reencrypt).toMatchObject({ code: 1, stdout: '' });
    expect(reencrypt?.stderr).toMatch(/^gatehouse: this command needs the embedded database to itself/);
    expect(await sendToServer(path, { argv: ['keys', 'list', '--nope'], stdin: null, files: {} })).toEqual({
      stdout: '',
      stderr: "gatehouse: unknown option '--nope'\n",
      code: 1,
    });
  });

  it('answers malformed requests with an error, and keeps serving', async () => {
    const malformed = { stdout: '', stderr: 'gatehouse: the server refused a malformed command from the CLI socket\n', code: 2 };
    for (const bad of [
      'not json\n',
      '[]\n',
      '{"argv":[1],"stdin":null,"files":{}}\n',
      '{"argv":[],"stdin":5,"files":{}}\n',
      '{"argv":[],"stdin":null,"files":[]}\n',
    ]) {
      expect(await raw(bad)).toEqual(malformed);
    }
    expect(await raw('{"argv":["user","list"]')).toMatchObject({ code: 2, stderr: expect.stringMatching(/closed before a whole message/) });
    expect(await raw(Buffer.alloc(MAX_REQUEST_BYTES + 1, 'a'))).toMatchObject({ code: 2, stderr: expect.stringMatching(/longer than/) });
    expect(await sendToServer(path, { argv: ['user', 'list', '--json'], stdin: null, files: {} })).toMatchObject({ code: 0 });
  });
});
