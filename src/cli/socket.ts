import { createHmac } from 'node:crypto';
import { connect } from 'node:net';
import { join, resolve } from 'node:path';

/**
 * The CLI socket: while a server holds the embedded DATA_DIR, the `gatehouse` process sends its
 * command there and the server runs it on its own database (src/cli/serve-socket.ts).
 *
 * Protocol: one request and one answer per connection, each one line of JSON ended by "\n".
 *   request  {"argv": ["user", "list", "--json"], "stdin": string | null, "files": {"path": "contents"},
 *             "keySecretCheck"?: string}
 *   answer   {"stdout": string, "stderr": string, "code": number}
 * The socket is a file of mode 0600 in DATA_DIR (itself 0700): only the OS user that runs the
 * server can connect, the same one that could open the database files.
 */

export const CLI_SOCKET_NAME = 'gatehouse-cli.sock';
/** Largest request: a command line, its standard input and the files it names (a user import). */
export const MAX_REQUEST_BYTES = 16 * 1024 * 1024;
/** Largest answer (a long listing). */
export const MAX_ANSWER_BYTES = 64 * 1024 * 1024;

export interface CliRequest {
  argv: string[];
  stdin: string | null;
  files: Record<string, string>;
  /**
   * keySecretCheck(KEY_ENCRYPTION_SECRET) of the CLI's environment, when it sets one: the server
   * compares it with its own, so that a command run there fails where it would fail run alone (a
   * `keys rotate` under a secret that does not open the keys). Never the secret itself.
   */
  keySecretCheck?: string;
}

/** A value that tells whether two processes hold the same KEY_ENCRYPTION_SECRET without revealing it. */
export function keySecretCheck(secret: string): string {
  return createHmac('sha256', secret).update('gatehouse CLI socket: same KEY_ENCRYPTION_SECRET').digest('base64url');
}

export interface CliAnswer {
  stdout: string;
  stderr: string;
  code: number;
}

export function cliSocketPath(dataDir: string): string {
  return join(resolve(dataDir), CLI_SOCKET_NAME);
}

/** Reads one "\n"-terminated line of at most `limit` bytes; `onLine` gets it (without the "\n"), or an error. */
export function readLine(socket: NodeJS.ReadableStream, limit: number, onLine: (error: Error | undefined, line?: string) => void): void {
  const chunks: Buffer[] = [];
  let size = 0;
  let done = false;
  const finish = (error: Error | undefined, line?: string): void => {
    if (done) return;
    done = true;
    socket.removeListener('data', onData);
    onLine(error, line);
  };
  const onData = (chunk: Buffer): void => {
    const end = chunk.indexOf(0x0a);
    const part = end === -1 ? chunk : chunk.subarray(0, end);
    size += part.length;
    if (size > limit) return finish(new Error(`message longer than ${limit} bytes`));
    chunks.push(part);
    if (end !== -1) finish(undefined, Buffer.concat(chunks).toString('utf8'));
  };
  socket.on('data', onData);
  socket.once('end', () => finish(new Error('connection closed before a whole message arrived')));
  socket.once('error', (error: Error) => finish(error));
}

/**
 * Sends `request` to the server listening at `path` and returns its answer; undefined when nothing
 * listens there (no socket file, or one left by a server that is gone).
 */
export function sendToServer(path: string, request: CliRequest): Promise<CliAnswer | undefined> {
  return new Promise((done, fail) => {
    const socket = connect(path);
    let connected = false;
    socket.once('connect', () => {
      connected = true;
      socket.write(`${JSON.stringify(request)}\n`);
    });
    socket.once('error', (error: NodeJS.ErrnoException) => {
      if (!connected && (error.code === 'ENOENT' || error.code === 'ECONNREFUSED')) done(undefined);
    });
    readLine(socket, MAX_ANSWER_BYTES, (error, line) => {
      socket.destroy();
      if (!connected && error) return;
      if (error) return fail(new Error(`the server did not answer the command: ${error.message}`));
      try {
        const answer = JSON.parse(line as string) as CliAnswer;
        done({ stdout: String(answer.stdout), stderr: String(answer.stderr), code: Number.isInteger(answer.code) ? answer.code : 1 });
      } catch {
        fail(new Error('the server answered the command with something that is not JSON'));
      }
    });
  });
}
