import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';

/**
 * Private keys at rest: AES-256-GCM under a key derived (HKDF-SHA-256, fresh salt per key) from
 * KEY_ENCRYPTION_SECRET. Envelope: v1.<salt>.<iv>.<tag>.<ciphertext>, each part base64url.
 */
const VERSION = 'v1';
const INFO = Buffer.from('gatehouse signing key encryption');

export class KeyDecryptionError extends Error {
  constructor(
    message = 'KEY_ENCRYPTION_SECRET does not decrypt the stored signing keys (was the secret changed? `gatehouse keys reencrypt --old-secret-stdin` re-encrypts them under a new one)',
  ) {
    super(message);
    this.name = 'KeyDecryptionError';
  }
}

function deriveKey(secret: string, salt: Buffer): Buffer {
  return Buffer.from(hkdfSync('sha256', Buffer.from(secret, 'utf8'), salt, INFO, 32));
}

export function encryptPrivateKey(secret: string, plaintext: string): string {
  const salt = randomBytes(16);
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', deriveKey(secret, salt), iv);
  const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  return [VERSION, salt, iv, cipher.getAuthTag(), ciphertext].map((part) => (typeof part === 'string' ? part : part.toString('base64url'))).join('.');
}

/** True when `secret` opens `envelope` (the GCM tag authenticates the secret as well as the data). */
export function canDecryptPrivateKey(secret: string, envelope: string): boolean {
  try {
    decryptPrivateKey(secret, envelope);
    return true;
  } catch {
    return false;
  }
}

export function decryptPrivateKey(secret: string, envelope: string): string {
  const [version, salt, iv, tag, ciphertext] = envelope.split('.');
  if (version !== VERSION || !salt || !iv || !tag || ciphertext === undefined) throw new KeyDecryptionError();
  try {
    const decipher = createDecipheriv('aes-256-gcm', deriveKey(secret, Buffer.from(salt, 'base64url')), Buffer.from(iv, 'base64url'));
    decipher.setAuthTag(Buffer.from(tag, 'base64url'));
    return Buffer.concat([decipher.update(Buffer.from(ciphertext, 'base64url')), decipher.final()]).toString('utf8');
  } catch {
    throw new KeyDecryptionError();
  }
}
