import { randomBytes } from 'node:crypto';

/** 256 random bits, base64url: refresh tokens and generated client secrets. */
export function randomToken(bytes = 32): string {
  return randomBytes(bytes).toString('base64url');
}
