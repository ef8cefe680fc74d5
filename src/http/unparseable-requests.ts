import type { Server } from 'node:http';
import type { Duplex } from 'node:stream';

/** A JSON error written straight to the socket, for requests that never reach Koa. */
function answerRaw(socket: Duplex, statusLine: string, error: string, description: string, headers = ''): void {
  const body = JSON.stringify({ error, error_description: description });
  socket.end(
    `HTTP/1.1 ${statusLine}\r\nContent-Type: application/json\r\nCache-Control: no-store\r\n${headers}Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
}

/**
 * Requests Node cannot even parse (headers over its 16 KiB limit, broken HTTP) never reach Koa,
 * nor does CONNECT (Node hands it to a 'connect' listener, or drops the connection without one).
 * Answer them with the same JSON error shape, not a bare status line or a closed socket.
 */
export function answerUnparseableRequests(server: Server): void {
  server.on('clientError', (error: NodeJS.ErrnoException, socket: Duplex) => {
    if (!socket.writable) return void socket.destroy();
    if (error.code === 'HPE_HEADER_OVERFLOW')
      return answerRaw(socket, '431 Request Header Fields Too Large', 'invalid_request', 'the request headers are too large');
    answerRaw(socket, '400 Bad Request', 'invalid_request', 'malformed HTTP request');
  });
  // Gatehouse is no proxy: CONNECT is refused like any other method no route answers.
  server.on('connect', (_request, socket: Duplex) => {
    if (!socket.writable) return void socket.destroy();
    answerRaw(socket, '405 Method Not Allowed', 'method_not_allowed', 'the method CONNECT is not allowed here', 'Allow: \r\n');
  });
}
