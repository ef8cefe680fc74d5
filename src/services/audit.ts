import type { Queryable } from '../store/database.js';
import { insertAuditEntry, listAuditEntries, type AuditFilter, type AuditRecord } from '../store/audit-repository.js';
import { auditActorFields, type Actor } from './actor.js';

/**
 * Writes one audit entry. Callers pass the transaction of the change itself, so the entry exists
 * exactly when the change does. Details carry identifiers only, never secrets or token values.
 */
export async function recordAudit(
  db: Queryable,
  entry: { actor: Actor; at: Date; action: string; details: Record<string, unknown>; count?: number | null },
): Promise<void> {
  await insertAuditEntry(db, { ...auditActorFields(entry.actor), at: entry.at, action: entry.action, details: entry.details, count: entry.count ?? null });
}

export function listAudit(db: Queryable, options: AuditFilter & { beforeId?: string | undefined; limit: number }): Promise<AuditRecord[]> {
  return listAuditEntries(db, options);
}
