import { createServer, Socket, type Server } from 'node:net';
import type { AddressInfo } from 'node:net';

/**
 * A TCP proxy on 127.0.0.1 that a test controls, to put faults between Gatehouse and PostgreSQL
 * without touching the shared server:
 * - `cut()`: every open connection is reset and new ones are refused (ECONNREFUSED) — the
 *   database is unreachable;
 * - `stall()`: connections stay open but nothing passes in either direction, and new ones are
 *   accepted and left hanging — a network partition, or a database that stopped answering;
 * - `restore()`: back to forwarding; connections made from then on work.
 */
export interface TcpProxy {
  readonly port: number;
  /** `targetUrl` with its host and port replaced by the proxy's. */
  url(targetUrl: string): string;
  cut(): Promise<void>;
  stall(): void;
  restore(): Promise<void>;
  /** Connections currently open through the proxy. */
  connectionCount(): number;
  close(): Promise<void>;
}

type Mode = 'forward' | 'stall' | 'cut';

interface Pair {
  client: Socket;
  upstream: Socket;
}

export async function startTcpProxy(target: { host: string; port: number }): Promise<TcpProxy> {
  let mode: Mode = 'forward';
  const pairs = new Set<Pair>();

  const destroyPair = (pair: Pair): void => {
    pairs.delete(pair);
    // resetAndDestroy sends RST, as a dead peer or a dropped route would.
    pair.client.resetAndDestroy();
    pair.upstream.destroy();
  };

  const onConnection = (client: Socket): void => {
    client.on('error', () => undefined);
    if (mode === 'cut') {
      client.resetAndDestroy();
      return;
    }
    const upstream = new Socket();
    upstream.on('error', () => undefined);
    const pair: Pair = { client, upstream };
    pairs.add(pair);
    client.once('close', () => destroyPair(pair));
    upstream.once('close', () => destroyPair(pair));
    upstream.connect(target.port, target.host);
    // Forward by hand rather than pipe(), so a stall can hold bytes back in both directions.
    client.on('data', (chunk: Buffer) => {
      if (mode === 'forward') upstream.write(chunk);
    });
    upstream.on('data', (chunk: Buffer) => {
      if (mode === 'forward') client.write(chunk);
    });
  };

  let server: Server = createServer(onConnection);
  await listen(server, 0);
  const { port } = server.address() as AddressInfo;

  return {
    port,
    url(targetUrl) {
      const parsed = new URL(targetUrl);
      parsed.hostname = '127.0.0.1';
      parsed.port = String(port);
      return parsed.toString();
    },
    async cut() {
      mode = 'cut';
      for (const pair of [...pairs]) destroyPair(pair);
      // Stop listening, so new connections are refused outright rather than reset.
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
    stall() {
      mode = 'stall';
    },
    async restore() {
      if (mode === 'stall') {
        // Whatever was held back is lost: those connections are broken, as after a partition.
        for (const pair of [...pairs]) destroyPair(pair);
      }
      if (!server.listening) {
        server = createServer(onConnection);
        await listen(server, port);
      }
      mode = 'forward';
    },
    connectionCount: () => pairs.size,
    async close() {
      for (const pair of [...pairs]) destroyPair(pair);
      if (server.listening) await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function listen(server: Server, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
}
