import type { Queryable } from './database.js';
import type { GrantSelector } from './grants-repository.js';
import { isUuid } from '../lib/uuid.js';

/** Where one access token's status bit is: list and index. */
export interface StatusEntry {
  listId: number;
  idx: number;
}

/** A block of indices leased to one instance for one client's tokens. */
export interface LeasedBlock {
  listId: number;
  firstIdx: number;
  count: number;
}

/**
 * Leases `count` indices from the oldest list that still has room, in one statement that also
 * records the block (for revocation by client) and moves the list's expiry out to `listExpiresAt`.
 * Undefined when no list has room: the caller opens one (openStatusList) and asks again.
 */
export async function leaseBlock(
  db: Queryable,
  lease: { clientId: string; count: number; leasedAt: Date; listExpiresAt: Date },
): Promise<LeasedBlock | undefined> {
  const result = await db.raw<{ rows: { list_id: number; first_idx: number }[] }>(
    `WITH open AS (
       SELECT id FROM status_lists WHERE next_free + ? <= size AND expires_at > ? ORDER BY id LIMIT 1 FOR UPDATE
     ), leased AS (
       UPDATE status_lists l SET next_free = l.next_free + ?, expires_at = greatest(l.expires_at, ?)
       FROM open WHERE l.id = open.id RETURNING l.id, l.next_free - ? AS first_idx
     )
     INSERT INTO status_list_blocks (list_id, first_idx, count, client_id, leased_at)
     SELECT id, first_idx, ?, ?, ? FROM leased
     RETURNING list_id, first_idx`,
    [lease.count, lease.leasedAt, lease.count, lease.listExpiresAt, lease.count, lease.count, lease.clientId, lease.leasedAt],
  );
  const row = result.rows[0];
  return row ? { listId: Number(row.list_id), firstIdx: Number(row.first_idx), count: lease.count } : undefined;
}

/** Opens a new, empty list. */
export async function openStatusList(db: Queryable, list: { size: number; createdAt: Date; expiresAt: Date }): Promise<number> {
  const rows: { id: number }[] = await db('status_lists')
    .insert({ size: list.size, next_free: 0, version: 0, created_at: list.createdAt, expires_at: list.expiresAt })
    .returning('id');
  return Number(rows[0]?.id);
}

/** `grants g` conditions for a selector, with their bindings; undefined when nothing can match. */
function grantCondition(selector: GrantSelector): { sql: string; bindings: string[] } | undefined {
  if ('grantId' in selector) return isUuid(selector.grantId) ? { sql: 'g.id = ?', bindings: [selector.grantId] } : undefined;
  if ('userId' in selector) return isUuid(selector.userId) ? { sql: 'g.user_id = ?', bindings: [selector.userId] } : undefined;
  return { sql: 'g.client_id = ?', bindings: [selector.clientId] };
}

/**
 * One statement: sets the bit of every access token of the live grants the selector names (the
 * index recorded on each grant and on each of its refresh tokens) and bumps the version of every
 * list that changed. Run it before the grants are revoked or deleted. Returns how many bits flipped.
 */
export async function flipGrantTokens(db: Queryable, selector: GrantSelector): Promise<number> {
  const condition = grantCondition(selector);
  if (!condition) return 0;
  const result = await db.raw<{ rows: { flipped: number | string }[] }>(
    `WITH entries AS (
       SELECT g.status_list_id AS list_id, g.status_idx AS idx FROM grants g
        WHERE ${condition.sql} AND g.revoked_at IS NULL AND g.status_list_id IS NOT NULL
       UNION
       SELECT r.status_list_id, r.status_idx FROM refresh_tokens r JOIN grants g ON g.id = r.grant_id
        WHERE ${condition.sql} AND g.revoked_at IS NULL AND r.status_list_id IS NOT NULL
     ), flipped AS (
       INSERT INTO status_list_revocations (list_id, idx)
       SELECT e.list_id, e.idx FROM entries e JOIN status_lists l ON l.id = e.list_id
       ON CONFLICT DO NOTHING RETURNING list_id
     ), bumped AS (
       UPDATE status_lists SET version = version + 1 WHERE id IN (SELECT list_id FROM flipped) RETURNING id
     )
     SELECT count(*) AS flipped FROM flipped`,
    [...condition.bindings, ...condition.bindings],
  );
  return Number(result.rows[0]?.flipped ?? 0);
}

/**
 * One statement: marks revoked every block of the client's tokens leased up to `at` (every index
 * in it reads 1) and bumps the versions of their lists. Returns how many blocks.
 */
export async function revokeClientBlocks(db: Queryable, clientId: string, at: Date): Promise<number> {
  const result = await db.raw<{ rows: { blocks: number | string }[] }>(
    `WITH revoked AS (
       UPDATE status_list_blocks SET revoked_at = ? WHERE client_id = ? AND revoked_at IS NULL AND leased_at <= ? RETURNING list_id
     ), bumped AS (
       UPDATE status_lists SET version = version + 1 WHERE id IN (SELECT list_id FROM revoked) RETURNING id
     )
     SELECT count(*) AS blocks FROM revoked`,
    [at, clientId, at],
  );
  return Number(result.rows[0]?.blocks ?? 0);
}

/** Sets one bit (and bumps its list's version) if the list exists; false when it changed nothing. */
export async function flipStatusEntry(db: Queryable, entry: StatusEntry): Promise<boolean> {
  const result = await db.raw<{ rows: unknown[] }>(
    `WITH flipped AS (
       INSERT INTO status_list_revocations (list_id, idx)
       SELECT id, ? FROM status_lists WHERE id = ? AND ? < size
       ON CONFLICT DO NOTHING RETURNING list_id
     )
     UPDATE status_lists SET version = version + 1 WHERE id IN (SELECT list_id FROM flipped) RETURNING id`,
    [entry.idx, entry.listId, entry.idx],
  );
  return result.rows.length > 0;
}

/** What decides whether a cached list is still current. */
export interface StatusListVersion {
  id: number;
  size: number;
  version: string;
}

/** The versions of these lists (those that exist): the one query behind each served list. */
export async function findStatusListVersions(db: Queryable, ids: readonly number[]): Promise<StatusListVersion[]> {
  const rows: { id: number; size: number; version: string | number }[] = await db('status_lists').whereIn('id', ids).select('id', 'size', 'version');
  return rows.map((row) => ({ id: Number(row.id), size: Number(row.size), version: String(row.version) }));
}

/** The set bits of a list: single revocations and the ranges of revoked blocks. */
export async function findRevokedIndices(db: Queryable, listId: number): Promise<{ indices: number[]; ranges: { first: number; count: number }[] }> {
  const indices = (await db('status_list_revocations').where({ list_id: listId }).pluck('idx')) as number[];
  const ranges: { first_idx: number; count: number }[] = await db('status_list_blocks')
    .where({ list_id: listId })
    .whereNotNull('revoked_at')
    .select('first_idx', 'count');
  return { indices: indices.map(Number), ranges: ranges.map((r) => ({ first: Number(r.first_idx), count: Number(r.count) })) };
}

/** Ids of the lists some live token may still point at, oldest first. */
export async function listLiveStatusListIds(db: Queryable, now: Date): Promise<number[]> {
  const ids = (await db('status_lists').where('expires_at', '>', now).orderBy('id').pluck('id')) as number[];
  return ids.map(Number);
}
