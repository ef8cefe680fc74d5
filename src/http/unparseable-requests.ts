import type { Server } from 'node:http';
import type { Duplex } from 'node:stream';

/** A JSON error written straight to the socket, for requests that never reach Koa. */
function answerRaw(socket: Duplex, statusLine: string, error: string, description: string, headers = ''): void {
  const body = JSON.stringify({ error, error_description: description });
  socket.end(
    `HTTP/1.1 ${statusLine}\r\nContent-Type: application/json\r\nCache-Control: no-store\r\n${headers}Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
}

/** A request line whose method token Node's parser does not know (`FOO`, `get`): method and target. */
const REQUEST_LINE = /^([!#$%&'*+.^_`|~0-9A-Za-z-]{1,32}) (\S{1,8192}) HTTP\/1\.[01]\r?\n/;

/** The path of a request target (origin form `/a?b`, or absolute form `http://host/a`); undefined for any other. */
function targetPath(target: string): string | undefined {
  if (target.startsWith('/')) return target.split(/[?#]/, 1)[0];
  try {
    return new URL(target).pathname;
  } catch {
    return undefined;
  }
}

/**
 * Requests Node cannot even parse (headers over its 16 KiB limit, broken HTTP) never reach Koa,
 * nor does CONNECT (Node hands it to a 'connect' listener, or drops the connection without one).
 * Answer them with the same JSON error shape, not a bare status line or a closed socket. A
 * well-formed request whose method token Node does not know (`FOO`, `get`: methods are
 * case-sensitive) is answered like any method no route takes (RFC 9110 §15.5.6): 405 with the
 * `Allow` of its path, which `allowedMethodsAt` reads from the route table.
 */
export function answerUnparseableRequests(server: Server, allowedMethodsAt: (path: string) => readonly string[]): void {
  server.on('clientError', (error: NodeJS.ErrnoException & { rawPacket?: Buffer }, socket: Duplex) => {
    if (!socket.writable) return void socket.destroy();
    if (error.code === 'HPE_HEADER_OVERFLOW')
      return answerRaw(socket, '431 Request Header Fields Too Large', 'invalid_request', 'the request headers are too large');
    const line = error.code === 'HPE_INVALID_METHOD' ? REQUEST_LINE.exec(error.rawPacket?.toString('latin1') ?? '') : null;
    const path = line ? targetPath(line[2] as string) : undefined;
    if (line && path !== undefined) {
      const allow = allowedMethodsAt(path).join(', ');
      return answerRaw(socket, '405 Method Not Allowed', 'method_not_allowed', `the method ${line[1]} is not allowed here`, `Allow: ${allow}\r\n`);
    }
    answerRaw(socket, '400 Bad Request', 'invalid_request', 'malformed HTTP request');
  });
  // Gatehouse is no proxy: CONNECT is refused like any other method no route answers.
  server.on('connect', (_request, socket: Duplex) => {
    if (!socket.writable) return void socket.destroy();
    answerRaw(socket, '405 Method Not Allowed', 'method_not_allowed', 'the method CONNECT is not allowed here', 'Allow: \r\n');
  });
}
