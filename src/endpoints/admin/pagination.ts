import type { Context } from 'koa';
import { InvalidRequest } from '../../errors.js';
import { containsUnusableCharacter } from '../../http/json-body.js';

export const DEFAULT_PAGE_SIZE = 50;
export const MAX_PAGE_SIZE = 200;

/** The query string as single strings; unknown or repeated parameters are refused. */
export function queryParameters<K extends string>(ctx: Context, allowed: readonly K[]): Partial<Record<K, string>> {
  const result: Partial<Record<K, string>> = {};
  for (const [name, value] of Object.entries(ctx.query)) {
    if (!(allowed as readonly string[]).includes(name)) throw new InvalidRequest(`unknown query parameter "${name.slice(0, 64)}"`);
    if (typeof value !== 'string') throw new InvalidRequest(`the query parameter "${name}" is repeated`);
    if (value.length > 1024) throw new InvalidRequest(`the query parameter "${name}" is too long`);
    result[name as K] = value;
  }
  return result;
}

/** Opaque keyset cursors: base64url JSON of the last item's sort key. */
export function encodeCursor(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

/**
 * A cursor is refused at the edge unless it is base64url of JSON that `isValid` accepts: whatever
 * reaches the query must be a value its column takes, or PostgreSQL fails the query (a 500).
 */
export function decodeCursor<T>(cursor: string | undefined, isValid: (value: unknown) => value is T): T | undefined {
  if (cursor === undefined) return undefined;
  if (!/^[A-Za-z0-9_-]+$/.test(cursor)) throw new InvalidRequest('the cursor is invalid');
  try {
    const value: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (isValid(value) && !containsUnusableCharacter(value)) return value;
  } catch {
    // fall through to the error below
  }
  throw new InvalidRequest('the cursor is invalid');
}

export function pageSize(limit: string | undefined): number {
  if (limit === undefined) return DEFAULT_PAGE_SIZE;
  if (!/^[0-9]{1,4}$/.test(limit) || Number(limit) < 1 || Number(limit) > MAX_PAGE_SIZE) {
    throw new InvalidRequest(`limit must be a whole number from 1 to ${MAX_PAGE_SIZE}`);
  }
  return Number(limit);
}

/** Callers fetch one row more than the page, to learn whether another page exists. */
export function page<T, R>(rows: T[], limit: number, present: (row: T) => R, cursorOf: (last: T) => unknown): { items: R[]; next_cursor: string | null } {
  const kept = rows.slice(0, limit);
  const last = kept[kept.length - 1];
  return { items: kept.map(present), next_cursor: rows.length > limit && last !== undefined ? encodeCursor(cursorOf(last)) : null };
}

/** A text key (client id, username): what the column can hold, so no lone UTF-16 surrogate. */
export const isTextCursor = (value: unknown): value is string =>
  typeof value === 'string' && value.length >= 1 && value.length <= 255 && !/\p{Cs}/u.test(value);

/** A bigint id (the audit log's), as a decimal string within the column's range. */
export const isIdCursor = (value: unknown): value is string =>
  typeof value === 'string' && /^[1-9][0-9]{0,18}$/.test(value) && BigInt(value) <= 9_223_372_036_854_775_807n;

/**
 * A timestamp as toISOString writes it, of a day that exists, from 1970 to 9999: well inside what
 * PostgreSQL's timestamptz takes (Date.parse alone lets `-004714-11-23…` or `+275760-…` through).
 */
export const isTimestampCursor = (value: unknown): value is string =>
  typeof value === 'string' &&
  /^(19[7-9][0-9]|[2-9][0-9]{3})-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}Z$/.test(value) &&
  !Number.isNaN(Date.parse(value)) &&
  new Date(value).toISOString() === value;

export const isPair = (value: unknown): value is [unknown, unknown] => Array.isArray(value) && value.length === 2;
