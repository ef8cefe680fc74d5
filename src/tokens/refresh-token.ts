import { sha256Hex } from '../lib/hash.js';
import { randomToken } from '../lib/random.js';

/** Opaque refresh tokens: 256 random bits, base64url. Only the SHA-256 is stored. */
export function generateRefreshToken(): string {
  return randomToken(32);
}

export function hashRefreshToken(token: string): string {
  return sha256Hex(token);
}
