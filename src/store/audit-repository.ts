import type { Queryable } from './database.js';

export interface AuditEntry {
  at: Date;
  /** Who acted: `admin:<client_id>[/<username>]`, `cli`, or `client:<client_id>` for RFC 7009. */
  actor: string;
  action: string;
  /** Identifiers only: never a token value or a secret. */
  details: Record<string, unknown>;
  count?: number | null;
}

export interface AuditRecord extends AuditEntry {
  id: string;
}

export async function insertAuditEntry(db: Queryable, entry: AuditEntry): Promise<void> {
  await db('audit_log').insert({
    at: entry.at,
    actor: entry.actor,
    action: entry.action,
    details: JSON.stringify(entry.details),
    count: entry.count ?? null,
  });
}

/** Newest first, keyset-paginated by id. */
export async function listAuditEntries(
  db: Queryable,
  options: { action?: string | undefined; beforeId?: string | undefined; limit: number },
): Promise<AuditRecord[]> {
  const query = db('audit_log').orderBy('id', 'desc').limit(options.limit);
  if (options.action !== undefined) query.where({ action: options.action });
  if (options.beforeId !== undefined) query.where('id', '<', options.beforeId);
  const rows = (await query) as { id: string | number; at: Date; actor: string; action: string; details: Record<string, unknown>; count: number | null }[];
  return rows.map((row) => ({ id: String(row.id), at: row.at, actor: row.actor, action: row.action, details: row.details, count: row.count }));
}
