import type { Database } from './database.js';
import { migrationsAreCurrent } from './migrate.js';

/** Whether the database answers, and whether every migration this code knows has been applied. */
export async function checkDatabase(db: Database): Promise<{ reachable: boolean; migrationsCurrent: boolean }> {
  try {
    await db.raw('SELECT 1');
    return { reachable: true, migrationsCurrent: await migrationsAreCurrent(db) };
  } catch {
    return { reachable: false, migrationsCurrent: false };
  }
}

/**
 * Database faults a request cannot fix (connection refused, reset or timed out, the server
 * shutting down or out of connections): the caller answers 503 + Retry-After, not 500.
 */
export function isDatabaseUnavailable(error: unknown): boolean {
  const e = error as { code?: string; name?: string; message?: string } | undefined;
  if (!e) return false;
  return (
    e.name === 'KnexTimeoutError' ||
    ['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', '57014', '57P01', '57P03', '53300', '08006', '08001', '08003'].includes(e.code ?? '') ||
    // node-postgres: a broken connection, a connect that timed out ("timeout expired"), a lost answer.
    /Connection terminated|Connection ended unexpectedly|connection timeout|timeout exceeded when trying to connect|^timeout expired$|Query read timeout/i.test(
      e.message ?? '',
    )
  );
}
