import { connect } from 'node:net';

export interface RawResponse {
  status: number;
  /** Lower-case names. */
  headers: Record<string, string>;
  body: string;
}

/**
 * One request written byte for byte to a fresh socket: any method token (lower case, WebDAV, CONNECT,
 * or one Node refuses), any request target. Node's own client would upper-case the method or treat
 * CONNECT specially. The answer is read until the server closes the connection.
 */
export function rawRequest(baseUrl: string, method: string, target: string, options: { headers?: string[]; timeoutMs?: number } = {}): Promise<RawResponse> {
  const { hostname, port } = new URL(baseUrl);
  const head = [`${method} ${target} HTTP/1.1`, `Host: ${hostname}:${port}`, 'Connection: close', 'Content-Length: 0', ...(options.headers ?? [])];
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const socket = connect(Number(port), hostname, () => socket.write(`${head.join('\r\n')}\r\n\r\n`));
    socket.setTimeout(options.timeoutMs ?? 10_000, () => socket.destroy(new Error(`no answer to ${method} ${target}`)));
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('error', reject);
    socket.on('close', () => {
      const raw = Buffer.concat(chunks);
      const end = raw.indexOf('\r\n\r\n');
      const head = raw.subarray(0, Math.max(end, 0)).toString('latin1');
      const match = /^HTTP\/1\.1 (\d{3})/.exec(head);
      if (end < 0 || !match) return reject(new Error(`not an HTTP answer to ${method} ${target}: ${JSON.stringify(raw.toString('latin1').slice(0, 200))}`));
      const headers: Record<string, string> = {};
      for (const line of head.split('\r\n').slice(1)) {
        const colon = line.indexOf(':');
        headers[line.slice(0, colon).toLowerCase()] = line.slice(colon + 1).trim();
      }
      const body = raw.subarray(end + 4);
      resolve({ status: Number(match[1]), headers, body: (/chunked/i.test(headers['transfer-encoding'] ?? '') ? unchunk(body) : body).toString('utf8') });
    });
  });
}

function unchunk(bytes: Buffer): Buffer {
  const parts: Buffer[] = [];
  for (let rest = bytes; ;) {
    const lineEnd = rest.indexOf('\r\n');
    const size = parseInt(rest.subarray(0, lineEnd).toString('latin1'), 16);
    if (!(size > 0)) return Buffer.concat(parts);
    parts.push(rest.subarray(lineEnd + 2, lineEnd + 2 + size));
    rest = rest.subarray(lineEnd + 2 + size + 2);
  }
}
