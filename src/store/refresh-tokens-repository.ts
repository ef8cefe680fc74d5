import { preparedQuery, type Queryable } from './database.js';
import { statusEntryOf, toGrant, type Grant, type GrantRow } from './grants-repository.js';
import type { StatusEntry } from './status-lists-repository.js';
import { toUser, type User, type UserRow } from './users-repository.js';

export interface RefreshTokenRow {
  token_hash: string;
  grant_id: string;
  parent_hash: string | null;
  created_at: Date;
  expires_at: Date;
  used_at: Date | null;
  status_list_id?: number | null;
  status_idx?: number | null;
}

export interface RefreshToken {
  tokenHash: string;
  grantId: string;
  parentHash: string | null;
  createdAt: Date;
  expiresAt: Date;
  usedAt: Date | null;
  /** The status list entry of the access token issued with this refresh token (rotations). */
  status?: StatusEntry | undefined;
}

export function toRefreshToken(row: RefreshTokenRow): RefreshToken {
  return {
    tokenHash: row.token_hash,
    grantId: row.grant_id,
    parentHash: row.parent_hash,
    createdAt: row.created_at,
    expiresAt: row.expires_at,
    usedAt: row.used_at,
    ...statusEntryOf(row),
  };
}

export async function insertRefreshToken(db: Queryable, token: RefreshToken): Promise<void> {
  await db('refresh_tokens').insert({
    token_hash: token.tokenHash,
    grant_id: token.grantId,
    parent_hash: token.parentHash,
    created_at: token.createdAt,
    expires_at: token.expiresAt,
    used_at: token.usedAt,
    status_list_id: token.status?.listId ?? null,
    status_idx: token.status?.idx ?? null,
  });
}

type TokenWithGrantRow = GrantRow &
  Omit<RefreshTokenRow, 'created_at' | 'expires_at' | 'status_list_id' | 'status_idx'> & {
    token_created_at: Date;
    token_expires_at: Date;
    token_status_list_id: number | null;
    token_status_idx: number | null;
  };

/** The token and its grant in one query: the refresh grant's hot path. */
export async function findRefreshTokenWithGrant(db: Queryable, tokenHash: string): Promise<{ token: RefreshToken; grant: Grant } | undefined> {
  const row = (await db('refresh_tokens as r')
    .join('grants as g', 'g.id', 'r.grant_id')
    .select(
      'r.token_hash',
      'r.grant_id',
      'r.parent_hash',
      'r.created_at as token_created_at',
      'r.expires_at as token_expires_at',
      'r.used_at',
      'r.status_list_id as token_status_list_id',
      'r.status_idx as token_status_idx',
      'g.id',
      'g.client_id',
      'g.user_id',
      'g.scopes',
      'g.resources',
      'g.created_at',
      'g.expires_at',
      'g.revoked_at',
      'g.revoked_reason',
      'g.dpop_jkt',
      'g.status_list_id',
      'g.status_idx',
    )
    .where('r.token_hash', tokenHash)
    .first()) as TokenWithGrantRow | undefined;
  if (!row) return undefined;
  return {
    token: toRefreshToken({
      token_hash: row.token_hash,
      grant_id: row.grant_id,
      parent_hash: row.parent_hash,
      created_at: row.token_created_at,
      expires_at: row.token_expires_at,
      used_at: row.used_at,
      status_list_id: row.token_status_list_id,
      status_idx: row.token_status_idx,
    }),
    grant: toGrant(row),
  };
}

/** Timestamps come back from to_jsonb as text: the `*_at` fields become Dates again, as pg returns them. */
function withTimestamps<Row>(json: Record<string, unknown>): Row {
  const row: Record<string, unknown> = { ...json };
  for (const [key, value] of Object.entries(row)) if (key.endsWith('_at') && typeof value === 'string') row[key] = new Date(value);
  return row as Row;
}

/**
 * The token, its grant and the grant's user (undefined for a grant without one, or a user deleted)
 * in ONE round trip, a prepared statement, without the query builder: the refresh grant's hot path.
 * Whole rows as JSON (`to_jsonb` of each), so that a column added to any of the three reaches its
 * mapper and the statement's result type never changes (see preparedQuery).
 */
export async function findRefreshTokenWithGrantAndUser(
  db: Queryable,
  tokenHash: string,
): Promise<{ token: RefreshToken; grant: Grant; user: User | undefined } | undefined> {
  const result = await preparedQuery<{ grant_row: Record<string, unknown>; token_row: Record<string, unknown>; user_row: Record<string, unknown> | null }>(
    db,
    'find_refresh_token_with_grant_and_user',
    `SELECT to_jsonb(g) AS grant_row, to_jsonb(r) AS token_row, to_jsonb(u) AS user_row
       FROM refresh_tokens r JOIN grants g ON g.id = r.grant_id LEFT JOIN users u ON u.id = g.user_id
      WHERE r.token_hash = ?`,
    [tokenHash],
  );
  const row = result.rows[0];
  if (!row) return undefined;
  return {
    token: toRefreshToken(withTimestamps<RefreshTokenRow>(row.token_row)),
    grant: toGrant(withTimestamps<GrantRow>(row.grant_row)),
    user: row.user_row ? toUser(withTimestamps<UserRow>(row.user_row)) : undefined,
  };
}

/**
 * Rotation in one statement (one round trip, atomic on its own, prepared): marks `parentHash` used if nobody
 * has and, only then, stores its successor. Returns false when the parent was already used (reuse,
 * or a concurrent refresh won: its UPDATE holds the row until it commits, after which ours finds
 * used_at set and changes nothing).
 */
export async function rotateRefreshToken(
  db: Queryable,
  parentHash: string,
  usedAt: Date,
  successor: Omit<RefreshToken, 'parentHash' | 'usedAt'>,
): Promise<boolean> {
  const result = await preparedQuery<unknown>(
    db,
    'rotate_refresh_token',
    `WITH used AS (
       UPDATE refresh_tokens SET used_at = ? WHERE token_hash = ? AND used_at IS NULL RETURNING token_hash
     )
     INSERT INTO refresh_tokens (token_hash, grant_id, parent_hash, created_at, expires_at, used_at, status_list_id, status_idx)
     SELECT ?, ?, token_hash, ?, ?, NULL, ?::integer, ?::integer FROM used
     RETURNING token_hash`,
    [
      usedAt,
      parentHash,
      successor.tokenHash,
      successor.grantId,
      successor.createdAt,
      successor.expiresAt,
      successor.status?.listId ?? null,
      successor.status?.idx ?? null,
    ],
  );
  return result.rows.length === 1;
}
