import { inflateSync } from 'node:zlib';
import { decodeJwt } from 'jose';

/** The entries of a status list, as a resource server reads them. */
export interface StatusListEntries {
  /** Bits per entry (`status_list.bits`). */
  bits: number;
  /** How many entries the list holds. */
  size: number;
  getStatus(index: number): number;
}

/**
 * Reads the list of a status list token (its claims NOT verified: the caller verifies the token)
 * as draft-ietf-oauth-status-list lays it out: `lst` is the base64url of the ZLIB-compressed bytes,
 * and entry i is the `bits` bits from bit (i × bits) mod 8, counted from the least significant, of
 * byte ⌊i × bits ÷ 8⌋. @sd-jwt/jwt-status-list reads the same, but first turns every entry into an
 * array element by way of strings: about 100 ms for a list of 2^20, which a test that reads a
 * changed list a few hundred times cannot afford. test/integration/status-list.test.ts checks that
 * the two agree on every entry of a list Gatehouse served.
 */
export function readStatusList(listToken: string): StatusListEntries {
  const { status_list: statusList } = decodeJwt(listToken) as { status_list: { bits: number; lst: string } };
  const { bits, lst } = statusList;
  if (![1, 2, 4, 8].includes(bits)) throw new Error(`status_list.bits must be 1, 2, 4 or 8, got ${JSON.stringify(bits)}`);
  const bytes = inflateSync(Buffer.from(lst, 'base64url'));
  const size = (bytes.length * 8) / bits;
  return {
    bits,
    size,
    getStatus(index) {
      if (!Number.isInteger(index) || index < 0 || index >= size) throw new RangeError(`index ${index} is outside the list (${size} entries)`);
      const firstBit = index * bits;
      return ((bytes[firstBit >> 3] as number) >> (firstBit & 7)) & ((1 << bits) - 1);
    },
  };
}
