import * as nodeCrypto from 'node:crypto';

/**
 * One-shot hashing (Node 20.12 and later): a third of the cost of a Hash object for a short value
 * (0.3 against 0.95 µs), and every authenticated request hashes one or more.
 */
const oneShotHash = (nodeCrypto as { hash?: (algorithm: string, data: string, encoding: 'hex') => string }).hash;

/** SHA-256 is right for high-entropy values (client secrets, refresh tokens); passwords use argon2id. */
export const sha256Hex: (value: string) => string = oneShotHash
  ? (value) => oneShotHash('sha256', value, 'hex')
  : (value) => nodeCrypto.createHash('sha256').update(value, 'utf8').digest('hex');

/** Compares two equal-length hex digests without leaking where they differ. */
export function digestsEqual(a: string, b: string): boolean {
  const left = Buffer.from(a, 'hex');
  const right = Buffer.from(b, 'hex');
  return left.length === right.length && nodeCrypto.timingSafeEqual(left, right);
}
