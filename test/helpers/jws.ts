import { KeyObject, sign } from 'node:crypto';
import { CompactSign, type CryptoKey } from 'jose';

/** Helpers for tests of JWS checks (DPoP proofs, client assertions): tokens no honest library makes. */

/** A JWS with any header and payload bytes at all (signed by `signer`, or left unsigned). */
export async function handBuiltJws(
  header: Record<string, unknown>,
  payload: Uint8Array | Record<string, unknown>,
  signer?: { key: CryptoKey | Uint8Array; alg: string },
): Promise<string> {
  const bytes = payload instanceof Uint8Array ? payload : new TextEncoder().encode(JSON.stringify(payload));
  if (!signer) return `${Buffer.from(JSON.stringify(header)).toString('base64url')}.${Buffer.from(bytes).toString('base64url')}.`;
  return new CompactSign(bytes).setProtectedHeader({ ...header, alg: signer.alg }).sign(signer.key);
}

/** Signed with node:crypto, for headers jose will not sign (an unknown crit). */
export function signedEs256(header: Record<string, unknown>, payload: Record<string, unknown>, privateKey: CryptoKey): string {
  const input = `${Buffer.from(JSON.stringify(header)).toString('base64url')}.${Buffer.from(JSON.stringify(payload)).toString('base64url')}`;
  return `${input}.${sign('sha256', Buffer.from(input), { key: KeyObject.from(privateKey), dsaEncoding: 'ieee-p1363' }).toString('base64url')}`;
}
