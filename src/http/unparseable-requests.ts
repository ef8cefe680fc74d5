import type { Server } from 'node:http';

/**
 * Requests Node cannot even parse (headers over its 16 KiB limit, broken HTTP) never reach Koa.
 * Answer them with the same JSON error shape, not a bare status line.
 */
export function answerUnparseableRequests(server: Server): void {
  server.on('clientError', (error: NodeJS.ErrnoException, socket) => {
    if (!socket.writable) return void socket.destroy();
    const tooLarge = error.code === 'HPE_HEADER_OVERFLOW';
    const body = JSON.stringify({ error: 'invalid_request', error_description: tooLarge ? 'the request headers are too large' : 'malformed HTTP request' });
    socket.end(
      `HTTP/1.1 ${tooLarge ? '431 Request Header Fields Too Large' : '400 Bad Request'}\r\nContent-Type: application/json\r\nCache-Control: no-store\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    );
  });
}
