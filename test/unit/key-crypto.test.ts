import { decryptPrivateKey, encryptPrivateKey, KeyDecryptionError } from '../../src/keys/key-crypto.js';

const SECRET = 'a-key-encryption-secret-of-32-chars!';
const PLAINTEXT = '-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n-----END PRIVATE KEY-----\n';

describe('private keys are encrypted at rest and decrypt only under the same secret', () => {
  it('round-trips a private key', () => {
    const envelope = encryptPrivateKey(SECRET, PLAINTEXT);
    expect(envelope).not.toContain('PRIVATE KEY');
    expect(decryptPrivateKey(SECRET, envelope)).toBe(PLAINTEXT);
  });

  it('encrypts the same key differently every time', () => {
    expect(encryptPrivateKey(SECRET, PLAINTEXT)).not.toBe(encryptPrivateKey(SECRET, PLAINTEXT));
  });

  it('refuses a wrong secret with KeyDecryptionError', () => {
    const envelope = encryptPrivateKey(SECRET, PLAINTEXT);
    expect(() => decryptPrivateKey(`${SECRET}x`, envelope)).toThrow(KeyDecryptionError);
  });

  it('refuses a tampered or malformed envelope with KeyDecryptionError', () => {
    const parts = encryptPrivateKey(SECRET, PLAINTEXT).split('.');
    const ciphertext = Buffer.from(parts[4] as string, 'base64url');
    ciphertext[0] = (ciphertext[0] as number) ^ 1;
    const tampered = [...parts.slice(0, 4), ciphertext.toString('base64url')].join('.');
    expect(() => decryptPrivateKey(SECRET, tampered)).toThrow(KeyDecryptionError);
    expect(() => decryptPrivateKey(SECRET, 'v2.a.b.c.d')).toThrow(KeyDecryptionError);
    expect(() => decryptPrivateKey(SECRET, 'not an envelope')).toThrow(KeyDecryptionError);
  });
});
