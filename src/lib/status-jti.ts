import { randomInt } from 'node:crypto';

/**
 * A jti that names its token's status bit, so that revoking by jti alone (admin API, CLI) can flip
 * it without any record per token. It is a UUIDv7: the first 48 bits are the issue time in
 * milliseconds (tokens/access-token.ts issuedAt relies on them); `rand_a` holds a fixed marker; the
 * last 48 bits hold the list id (28 bits) and the index (20 bits); 14 random bits remain.
 */
const MARKER = '5a7';
const STATUS_JTI = /^([0-9a-f]{8})-([0-9a-f]{4})-75a7-[89ab][0-9a-f]{3}-([0-9a-f]{7})([0-9a-f]{5})$/;
const MAX_LIST_ID = 2 ** 28;
const MAX_INDEX = 2 ** 20;

/** The jti for a token issued at `msecs` holding (listId, idx); undefined when they do not fit. */
export function statusJti(msecs: number, entry: { listId: number; idx: number }): string | undefined {
  if (!Number.isInteger(entry.listId) || entry.listId < 0 || entry.listId >= MAX_LIST_ID) return undefined;
  if (!Number.isInteger(entry.idx) || entry.idx < 0 || entry.idx >= MAX_INDEX) return undefined;
  const time = msecs.toString(16).padStart(12, '0');
  const variant = (0x8000 | randomInt(0x4000)).toString(16);
  const tail = entry.listId.toString(16).padStart(7, '0') + entry.idx.toString(16).padStart(5, '0');
  return `${time.slice(0, 8)}-${time.slice(8, 12)}-7${MARKER}-${variant}-${tail}`;
}

/** The status bit a jti made by statusJti names; undefined for any other jti. */
export function statusEntryOfJti(jti: string): { listId: number; idx: number } | undefined {
  const match = STATUS_JTI.exec(jti.toLowerCase());
  if (!match) return undefined;
  return { listId: Number.parseInt(match[3] as string, 16), idx: Number.parseInt(match[4] as string, 16) };
}
