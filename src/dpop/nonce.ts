import { createHmac, hkdfSync, timingSafeEqual } from 'node:crypto';
import type { Clock } from '../lib/clock.js';

/** Server nonces for DPoP proofs (RFC 9449 §8). */
export interface DpopNonces {
  /** The nonce to hand out now (in `DPoP-Nonce`). */
  current(): string;
  /** Whether a proof's `nonce` is one this server handed out recently. */
  isValid(nonce: string): boolean;
}

/** Length of one nonce window; a nonce is accepted for one to two windows after it was handed out. */
export const DPOP_NONCE_WINDOW_SECONDS = 60;
/** 32 bytes of HMAC in base64url. */
const NONCE_LENGTH = 43;

/** The key of the DPoP nonces, derived once from KEY_ENCRYPTION_SECRET (its own HKDF label). */
export function deriveDpopNonceSecret(keyEncryptionSecret: string): Buffer {
  return Buffer.from(hkdfSync('sha256', Buffer.from(keyEncryptionSecret, 'utf8'), Buffer.alloc(0), 'gatehouse dpop nonce', 32));
}

/**
 * Stateless nonces: the nonce of window `n` (time / window length) is HMAC-SHA-256(secret, n) in
 * base64url, so every instance sharing KEY_ENCRYPTION_SECRET makes and accepts the same nonces
 * without writing anything. Unpredictable without the secret (RFC 9449 §8 asks that).
 * Accepted: the current window's nonce and the previous one's (a nonce handed out just before a
 * window ends stays good for at least one more window), and the next one's, which only an instance
 * whose clock runs a little ahead hands out; without it, two instances whose clocks straddle a
 * window boundary would each refuse the other's fresh nonce.
 */
export function createDpopNonces(options: { secret: Buffer; clock: Clock; windowSeconds?: number | undefined }): DpopNonces {
  const windowMs = (options.windowSeconds ?? DPOP_NONCE_WINDOW_SECONDS) * 1000;
  if (!(windowMs >= 1000)) throw new Error('a DPoP nonce window must be at least one second');
  const nonceOf = (window: number): string => createHmac('sha256', options.secret).update(`dpop-nonce:${window}`, 'utf8').digest('base64url');
  const windowNow = (): number => Math.floor(options.clock.now().getTime() / windowMs);
  return {
    current: () => nonceOf(windowNow()),
    isValid(nonce) {
      if (typeof nonce !== 'string' || nonce.length !== NONCE_LENGTH) return false;
      const presented = Buffer.from(nonce, 'utf8');
      if (presented.length !== NONCE_LENGTH) return false;
      const window = windowNow();
      let matched = false;
      // Every candidate is compared, so the time taken does not tell which window matched.
      for (const candidate of [window - 1, window, window + 1]) {
        if (timingSafeEqual(presented, Buffer.from(nonceOf(candidate), 'utf8'))) matched = true;
      }
      return matched;
    },
  };
}
