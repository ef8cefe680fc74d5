import type { Queryable } from './database.js';

/** Who acted, in separate fields so that no two actors read the same. */
export interface AuditActorFields {
  /** `cli` (the operator), `system`, `client` (a client acting as itself) or `user` (a user through a client). */
  actorType: 'cli' | 'system' | 'client' | 'user' | 'unknown';
  /** The client id for `client`, the user id for `user`; null otherwise. */
  actorId: string | null;
  /** For `user`: the client the user acted through. */
  actorClientId: string | null;
}

export interface AuditEntry extends AuditActorFields {
  at: Date;
  action: string;
  /** Identifiers only: never a token value or a secret. */
  details: Record<string, unknown>;
  count?: number | null;
}

export interface AuditRecord extends AuditEntry {
  id: string;
  /** The acting user's username, when the actor is a user that still exists. */
  actorUsername: string | null;
}

interface AuditRow {
  id: string | number;
  at: Date;
  actor_type: AuditActorFields['actorType'];
  actor_id: string | null;
  actor_client_id: string | null;
  actor_username: string | null;
  action: string;
  details: Record<string, unknown>;
  count: number | null;
}

function toAuditRecord(row: AuditRow): AuditRecord {
  return {
    id: String(row.id),
    at: row.at,
    actorType: row.actor_type,
    actorId: row.actor_id,
    actorClientId: row.actor_client_id,
    actorUsername: row.actor_username,
    action: row.action,
    details: row.details,
    count: row.count,
  };
}

export async function insertAuditEntry(db: Queryable, entry: AuditEntry): Promise<void> {
  await db('audit_log').insert({
    at: entry.at,
    actor_type: entry.actorType,
    actor_id: entry.actorId,
    actor_client_id: entry.actorClientId,
    action: entry.action,
    details: JSON.stringify(entry.details),
    count: entry.count ?? null,
  });
}

/** The details fields that name what an action was done to: a user, a client, a grant, a token, a key. */
export const AUDIT_TARGET_FIELDS = ['user_id', 'username', 'client_id', 'grant_id', 'jti', 'current', 'next', 'resource'] as const;

export interface AuditFilter {
  action?: string | undefined;
  actorId?: string | undefined;
  /** An identifier one of AUDIT_TARGET_FIELDS holds. */
  target?: string | undefined;
  /** Inclusive bounds on `at`. */
  since?: Date | undefined;
  until?: Date | undefined;
}

/** Newest first, keyset-paginated by id (a decimal string). */
export async function listAuditEntries(db: Queryable, options: AuditFilter & { beforeId?: string | undefined; limit: number }): Promise<AuditRecord[]> {
  const query = db('audit_log as a')
    // A user id is a UUID and a client id never is, so actor_id alone names one actor.
    .leftJoin('users as u', (join) => join.on(db.raw("a.actor_type = 'user'")).andOn(db.raw('u.id::text = a.actor_id')))
    .select('a.*', 'u.username as actor_username')
    .orderBy('a.id', 'desc')
    .limit(options.limit);
  if (options.action !== undefined) query.where('a.action', options.action);
  if (options.actorId !== undefined) query.where('a.actor_id', options.actorId);
  if (options.beforeId !== undefined) query.where('a.id', '<', options.beforeId);
  const target = options.target;
  if (target !== undefined) {
    query.where((match) => {
      for (const field of AUDIT_TARGET_FIELDS) match.orWhereRaw('a.details ->> ? = ?', [field, target]);
    });
  }
  if (options.since !== undefined) query.where('a.at', '>=', options.since);
  if (options.until !== undefined) query.where('a.at', '<=', options.until);
  return ((await query) as AuditRow[]).map(toAuditRecord);
}
