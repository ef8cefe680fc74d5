import { deflateSync } from 'node:zlib';
import { SignJWT } from 'jose';
import type { ActiveSigningKey } from '../keys/key-service.js';

/**
 * The status list as draft-ietf-oauth-status-list §4 lays it out: one bit per index, index i at
 * bit (i mod 8) of byte floor(i / 8), least significant bit first; then ZLIB (RFC 1950)
 * compressed and base64url-encoded.
 */
export function encodeStatusBits(size: number, set: { indices: readonly number[]; ranges: readonly { first: number; count: number }[] }): string {
  const bytes = new Uint8Array(Math.ceil(size / 8));
  const setBit = (idx: number): void => {
    if (idx >= 0 && idx < size) bytes[idx >> 3] = (bytes[idx >> 3] as number) | (1 << (idx & 7));
  };
  for (const idx of set.indices) setBit(idx);
  for (const range of set.ranges) for (let idx = range.first; idx < range.first + range.count; idx++) setBit(idx);
  return deflateSync(bytes, { level: 9 }).toString('base64url');
}

/** A status list token (§5.1): `typ: statuslist+jwt`, `sub` = the list's URI. */
export async function signStatusListToken(
  key: ActiveSigningKey,
  input: { issuer: string; uri: string; iat: number; exp: number; ttl: number; lst: string },
): Promise<string> {
  return new SignJWT({ iss: input.issuer, sub: input.uri, iat: input.iat, exp: input.exp, ttl: input.ttl, status_list: { bits: 1, lst: input.lst } })
    .setProtectedHeader({ alg: 'RS256', typ: 'statuslist+jwt', kid: key.kid })
    .sign(key.privateKey);
}
