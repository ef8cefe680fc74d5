import type { Queryable } from '../store/database.js';
import { insertAuditEntry, listAuditEntries, type AuditFilter, type AuditRecord } from '../store/audit-repository.js';
import { auditActorFields, type Actor } from './actor.js';

/**
 * Every action the audit log records, in the order the docs and the console's filter list them.
 * recordAudit takes only these, so a new kind of change cannot be audited under a name the
 * console, the OpenAPI document and docs/admins.md do not know.
 */
export const AUDIT_ACTIONS = Object.freeze([
  'grants.revoke',
  'access_token.revoke',
  'client.create',
  'client.update',
  'client.delete',
  'resource.create',
  'resource.update',
  'resource.delete',
  'user.create',
  'user.update',
  'user.delete',
  'keys.rotate',
] as const);

export type AuditAction = (typeof AUDIT_ACTIONS)[number];

/**
 * Writes one audit entry. Callers pass the transaction of the change itself, so the entry exists
 * exactly when the change does. Details carry identifiers only, never secrets or token values.
 */
export async function recordAudit(
  db: Queryable,
  entry: { actor: Actor; at: Date; action: AuditAction; details: Record<string, unknown>; count?: number | null },
): Promise<void> {
  await insertAuditEntry(db, { ...auditActorFields(entry.actor), at: entry.at, action: entry.action, details: entry.details, count: entry.count ?? null });
}

export function listAudit(db: Queryable, options: AuditFilter & { beforeId?: string | undefined; limit: number }): Promise<AuditRecord[]> {
  return listAuditEntries(db, options);
}
