import type { Queryable } from './database.js';
import { isUuid } from '../lib/uuid.js';

export interface GrantRow {
  id: string;
  client_id: string;
  user_id: string | null;
  scopes: string[];
  created_at: Date;
  expires_at: Date;
  revoked_at: Date | null;
  revoked_reason: string | null;
  dpop_jkt: string | null;
}

/** A token family: what a chain of refresh tokens may grant, and whether it still may. */
export interface Grant {
  id: string;
  clientId: string;
  userId: string | null;
  scopes: string[];
  createdAt: Date;
  expiresAt: Date;
  revokedAt: Date | null;
  revokedReason: string | null;
  /** RFC 7638 thumbprint of the DPoP key every refresh must prove (public clients, RFC 9449 §5); null when unbound. */
  dpopJkt: string | null;
}

export function toGrant(row: GrantRow): Grant {
  return {
    id: row.id,
    clientId: row.client_id,
    userId: row.user_id,
    scopes: row.scopes,
    createdAt: row.created_at,
    expiresAt: row.expires_at,
    revokedAt: row.revoked_at,
    revokedReason: row.revoked_reason,
    dpopJkt: row.dpop_jkt ?? null,
  };
}

export async function insertGrant(db: Queryable, grant: Grant): Promise<void> {
  await db('grants').insert({
    id: grant.id,
    client_id: grant.clientId,
    user_id: grant.userId,
    scopes: grant.scopes,
    created_at: grant.createdAt,
    expires_at: grant.expiresAt,
    revoked_at: grant.revokedAt,
    revoked_reason: grant.revokedReason,
    dpop_jkt: grant.dpopJkt,
  });
}

export type GrantSelector = { grantId: string } | { userId: string } | { clientId: string };

/** Revokes the live grants the selector names; returns how many were newly revoked. */
export async function revokeGrants(db: Queryable, selector: GrantSelector, at: Date, reason: string): Promise<number> {
  const query = db('grants').whereNull('revoked_at');
  if ('grantId' in selector) {
    if (!isUuid(selector.grantId)) return 0;
    query.where({ id: selector.grantId });
  } else if ('userId' in selector) {
    if (!isUuid(selector.userId)) return 0;
    query.where({ user_id: selector.userId });
  } else {
    query.where({ client_id: selector.clientId });
  }
  return query.update({ revoked_at: at, revoked_reason: reason });
}

export interface ActiveGrant extends Grant {
  username: string | null;
  /** When a refresh token of the grant was last used (its successor issued); null if never. */
  lastRefreshedAt: Date | null;
}

/** Which live grants to list, and the page: before (created_at, id), at most `limit`. */
export interface ActiveGrantsFilter {
  username?: string | undefined;
  userId?: string | undefined;
  clientId?: string | undefined;
  now: Date;
  before?: { createdAt: Date; id: string } | undefined;
  limit: number;
}

/** Live (unrevoked, unexpired) grants, newest first, keyset-paginated by (created_at, id). */
export async function listActiveGrants(db: Queryable, filter: ActiveGrantsFilter): Promise<ActiveGrant[]> {
  // No user has an id that is not a UUID (and the uuid column would refuse the comparison).
  if (filter.userId !== undefined && !isUuid(filter.userId)) return [];
  const query = db('grants as g')
    .leftJoin('users as u', 'u.id', 'g.user_id')
    .select(
      'g.*',
      'u.username',
      // Every refresh token but the first was issued by a refresh (refresh_tokens_grant_id_index).
      db('refresh_tokens as r').max('r.created_at').where('r.grant_id', db.ref('g.id')).whereNotNull('r.parent_hash').as('last_refreshed_at'),
    )
    .whereNull('g.revoked_at')
    .where('g.expires_at', '>', filter.now)
    .orderBy([
      { column: 'g.created_at', order: 'desc' },
      { column: 'g.id', order: 'desc' },
    ])
    .limit(filter.limit);
  if (filter.username !== undefined) query.where('u.username', filter.username);
  if (filter.userId !== undefined) query.where('g.user_id', filter.userId);
  if (filter.clientId !== undefined) query.where('g.client_id', filter.clientId);
  if (filter.before) {
    const { createdAt, id } = filter.before;
    query.whereRaw('(g.created_at, g.id) < (?, ?)', [createdAt, id]);
  }
  const rows = (await query) as (GrantRow & { username: string | null; last_refreshed_at: Date | null })[];
  return rows.map((row) => ({ ...toGrant(row), username: row.username, lastRefreshedAt: row.last_refreshed_at }));
}
