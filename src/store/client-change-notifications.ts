import pg from 'pg';
import type { Queryable } from './database.js';

/** The PostgreSQL channel on which a change to the clients table is announced to every instance. */
export const CLIENT_CHANGES_CHANNEL = 'gatehouse_client_changes';

/**
 * Announces that the clients table changed (pg_notify). Call it inside the change's transaction:
 * PostgreSQL delivers the notification when it commits, and never when it rolls back.
 */
export async function announceClientChange(tx: Queryable): Promise<void> {
  await tx.raw('SELECT pg_notify(?, ?)', [CLIENT_CHANGES_CHANNEL, '']);
}

export interface ClientChangeListener {
  close(): Promise<void>;
}

/**
 * Listens for announced client changes on a connection of its own (LISTEN holds a session, so it
 * cannot come from the pool). `onChange` runs for each one; `onGap` when the connection was lost,
 * since announcements made meanwhile are lost with it. It reconnects every `retryMs` until closed.
 * Resolves once it listens (or has failed once and goes on retrying).
 */
export async function listenForClientChanges(
  databaseUrl: string,
  handlers: { onChange(): void; onGap(error: unknown): void },
  options: { retryMs?: number; connectTimeoutMs?: number } = {},
): Promise<ClientChangeListener> {
  let closed = false;
  let current: pg.Client | undefined;
  let retry: NodeJS.Timeout | undefined;

  const connect = async (): Promise<void> => {
    const client = new pg.Client({ connectionString: databaseUrl, connectionTimeoutMillis: options.connectTimeoutMs ?? 3000 });
    let lost = false;
    const onLost = (error: unknown): void => {
      if (lost) return;
      lost = true;
      if (current === client) current = undefined;
      void client.end().catch(() => undefined);
      if (closed) return;
      handlers.onGap(error);
      retry = setTimeout(() => void connect(), options.retryMs ?? 1000);
      retry.unref();
    };
    client.on('notification', (message) => {
      if (message.channel === CLIENT_CHANGES_CHANNEL) handlers.onChange();
    });
    client.on('error', onLost);
    client.on('end', () => onLost(new Error('the connection listening for client changes ended')));
    try {
      await client.connect();
      await client.query(`LISTEN ${CLIENT_CHANGES_CHANNEL}`);
      if (closed) {
        lost = true;
        await client.end();
        return;
      }
      current = client;
    } catch (error) {
      onLost(error);
    }
  };

  await connect();
  return {
    async close() {
      closed = true;
      if (retry) clearTimeout(retry);
      const client = current;
      current = undefined;
      await client?.end().catch(() => undefined);
    },
  };
}
