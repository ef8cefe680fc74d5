import { chmodSync, rmSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { dirname } from 'node:path';
import type { Logger } from 'pino';
import type { Deps } from '../deps.js';
import { CliError, runCommand, type CliContext } from './main.js';
import { KeyDecryptionError } from '../keys/key-crypto.js';
import { keySecretCheck, MAX_REQUEST_BYTES, readLine, type CliAnswer, type CliRequest } from './socket.js';

/** A client that connects and sends nothing is dropped after this long. */
const REQUEST_TIMEOUT_MS = 30_000;
const MAX_ARGS = 200;

/** The request, if `value` has its shape. */
function parseRequest(value: unknown): CliRequest | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const { argv, stdin, files, keySecretCheck: check } = value as Record<string, unknown>;
  if (!Array.isArray(argv) || argv.length > MAX_ARGS || !argv.every((arg) => typeof arg === 'string')) return undefined;
  if (stdin !== null && typeof stdin !== 'string') return undefined;
  if (typeof files !== 'object' || files === null || Array.isArray(files) || !Object.values(files).every((f) => typeof f === 'string')) return undefined;
  if (check !== undefined && typeof check !== 'string') return undefined;
  return { argv: argv, stdin, files: files as Record<string, string>, ...(check === undefined ? {} : { keySecretCheck: check }) };
}

/** The command's name for the log: its leading words (`client create`), never its options or values. */
function commandName(argv: readonly string[]): string {
  const words: string[] = [];
  for (const arg of argv) {
    if (words.length === 2 || !/^[a-z]+$/.test(arg)) break;
    words.push(arg);
  }
  return words.join(' ');
}

/** A command from the socket runs here: on the server's database and services, output buffered. */
function serverContext(deps: Deps, request: CliRequest): CliContext & { out: string; err: string } {
  const context: CliContext & { out: string; err: string } = {
    out: '',
    err: '',
    stdout: (text) => (context.out += text),
    stderr: (text) => (context.err += text),
    readStdin: () => Promise.resolve(request.stdin ?? undefined),
    readFile: (path) => {
      const contents = request.files[path];
      return contents === undefined ? Promise.reject(new CliError(`${path}: the file was not sent with the command`)) : Promise.resolve(contents);
    },
    withDatabase(action, options = {}) {
      if (options.exclusive) {
        return Promise.reject(new CliError(`this command needs the embedded database to itself: stop the server (pid ${process.pid}) first`));
      }
      const { config, db, clock, clientAuthentication, keys } = deps;
      // The CLI names a KEY_ENCRYPTION_SECRET that does not open the keys: run alone, `keys rotate`
      // would be refused (new keys under it would be of no use to the server); so it is here.
      const sameSecret = request.keySecretCheck === undefined || request.keySecretCheck === keySecretCheck(config.keyEncryptionSecret as string);
      const usableKeys = sameSecret ? keys : { listStored: keys.listStored.bind(keys), rotateNow: () => Promise.reject(new KeyDecryptionError()) };
      return action({ config, db, clock, clientAuthentication, keys: usableKeys });
    },
  };
  return context;
}

async function answer(deps: Deps, logger: Logger, line: string): Promise<CliAnswer> {
  let request: CliRequest | undefined;
  try {
    request = parseRequest(JSON.parse(line));
  } catch {
    request = undefined;
  }
  if (!request) return { stdout: '', stderr: 'gatehouse: the server refused a malformed command from the CLI socket\n', code: 2 };
  const context = serverContext(deps, request);
  const code = await runCommand(request.argv, context).catch((error: unknown) => {
    context.err += `gatehouse: ${error instanceof Error ? error.message.split('\n')[0] : 'failed'}\n`;
    return 1;
  });
  // The command's name and exit code only: its arguments and output may hold secrets.
  logger.info({ command: commandName(request.argv), code }, 'CLI command over the socket');
  return { stdout: context.out, stderr: context.err, code };
}

function handle(deps: Promise<Deps>, logger: Logger, socket: Socket): void {
  socket.setTimeout(REQUEST_TIMEOUT_MS, () => socket.destroy());
  socket.on('error', () => socket.destroy());
  readLine(socket, MAX_REQUEST_BYTES, (error, line) => {
    socket.setTimeout(0);
    const reply = (value: CliAnswer): void => {
      if (!socket.destroyed) socket.end(`${JSON.stringify(value)}\n`);
    };
    if (error) {
      reply({ stdout: '', stderr: `gatehouse: the server refused the command: ${error.message}\n`, code: 2 });
      return;
    }
    deps
      .then((ready) => answer(ready, logger, line as string))
      .then(reply)
      .catch((failure: unknown) => {
        logger.error({ err: failure }, 'CLI command over the socket failed');
        reply({ stdout: '', stderr: 'gatehouse: the server could not run the command\n', code: 1 });
      });
  });
}

/**
 * Serves the CLI at `path` (in DATA_DIR) while this server holds the embedded database: a socket
 * file of mode 0600 in a directory of mode 0700, so only this OS user reaches it. A socket left by
 * a server that crashed is replaced (the DATA_DIR lock says no other server runs). Commands wait for
 * `deps` (the server opens the socket as soon as it holds DATA_DIR, before its services are
 * ready). Resolves once listening; `close()` stops it and removes the file.
 */
export async function serveCliSocket(deps: Promise<Deps>, logger: Logger, path: string): Promise<{ close(): Promise<void> }> {
  try {
    chmodSync(dirname(path), 0o700);
  } catch (error) {
    logger.warn({ err: error, dataDir: dirname(path) }, 'could not make DATA_DIR private (mode 0700)');
  }
  rmSync(path, { force: true });
  // allowHalfOpen: a client that ends its side once it has sent the command still gets the answer.
  const server: Server = createServer({ allowHalfOpen: true }, (socket) => handle(deps, logger, socket));
  try {
    await new Promise<void>((done, fail) => {
      server.once('error', fail);
      server.listen(path, () => {
        server.off('error', fail);
        done();
      });
    });
    chmodSync(path, 0o600);
  } catch (error) {
    // E.g. a DATA_DIR path too long for a socket: the server runs, the CLI needs it stopped.
    logger.warn({ err: error, path }, 'could not open the CLI socket: CLI commands on this DATA_DIR will need the server stopped');
    server.close();
    return { close: () => Promise.resolve() };
  }
  const remove = (): void => rmSync(path, { force: true });
  process.once('exit', remove);
  return {
    close: () =>
      new Promise<void>((done) => {
        server.close(() => {
          remove();
          process.off('exit', remove);
          done();
        });
      }),
  };
}
