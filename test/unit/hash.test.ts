import { createHash } from 'node:crypto';
import { digestsEqual, sha256Hex } from '../../src/lib/hash.js';

describe('sha256Hex', () => {
  it('is the SHA-256 of the UTF-8 bytes, in lowercase hex', () => {
    // FIPS 180-2, appendix B.1.
    expect(sha256Hex('abc')).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
    for (const value of ['', 'clé secrète', '\u{1F600}', 'x'.repeat(10_000)]) {
      expect(sha256Hex(value)).toBe(createHash('sha256').update(Buffer.from(value, 'utf8')).digest('hex'));
    }
  });

  it('digests compare equal only when they are', () => {
    expect(digestsEqual(sha256Hex('a'), sha256Hex('a'))).toBe(true);
    expect(digestsEqual(sha256Hex('a'), sha256Hex('b'))).toBe(false);
    expect(digestsEqual(sha256Hex('a'), 'abcd')).toBe(false);
  });
});
