import { createHmac, hkdfSync } from 'node:crypto';
import { sha256Hex } from '../lib/hash.js';
import { randomToken } from '../lib/random.js';

/** Opaque refresh tokens: 256 random bits, base64url. Only the SHA-256 is stored. */
export function generateRefreshToken(): string {
  return randomToken(32);
}

export function hashRefreshToken(token: string): string {
  return sha256Hex(token);
}

/** The key of successorRefreshToken, derived once from KEY_ENCRYPTION_SECRET. */
export function deriveRefreshTokenSecret(keyEncryptionSecret: string): Buffer {
  return Buffer.from(hkdfSync('sha256', Buffer.from(keyEncryptionSecret, 'utf8'), Buffer.alloc(0), 'gatehouse refresh token successor', 32));
}

/**
 * The token that replaces `parent` on rotation: HMAC-SHA-256 of the parent under a server key, so
 * it is as unguessable as a random 256-bit value to anyone without that key, yet the server can
 * compute it again from the parent alone. That is what lets a retry within REFRESH_REUSE_GRACE get
 * the very same successor back although only hashes are stored.
 */
export function successorRefreshToken(secret: Buffer, parent: string): string {
  return createHmac('sha256', secret).update(parent, 'utf8').digest('base64url');
}
