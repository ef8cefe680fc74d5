import { createDpopNonces, deriveDpopNonceSecret, DPOP_NONCE_WINDOW_SECONDS } from '../../src/dpop/nonce.js';
import { deriveRefreshTokenSecret } from '../../src/tokens/refresh-token.js';
import { TestClock } from '../helpers/clock.js';

const SECRET = deriveDpopNonceSecret('a-key-encryption-secret-of-at-least-32-characters');
/** The start of a window, so that moving by whole windows lands at known places. */
const WINDOW_START = new Date(Math.floor(Date.parse('2026-11-29T10:00:00Z') / 60_000) * 60_000);

describe('DPoP server nonces are stateless and move with time windows', () => {
  it('derives its own secret from KEY_ENCRYPTION_SECRET, the same on every instance', () => {
    const input = 'a-key-encryption-secret-of-at-least-32-characters';
    expect(deriveDpopNonceSecret(input)).toEqual(SECRET);
    expect(SECRET).toHaveLength(32);
    expect(deriveDpopNonceSecret(input).equals(deriveRefreshTokenSecret(input))).toBe(false);
    expect(deriveDpopNonceSecret(`${input}!`).equals(SECRET)).toBe(false);
  });

  it('hands out one nonce per window, unpredictable-looking and 43 base64url characters', () => {
    const clock = new TestClock(WINDOW_START);
    const nonces = createDpopNonces({ secret: SECRET, clock });
    const first = nonces.current();
    expect(first).toMatch(/^[A-Za-z0-9_-]{43}$/);
    clock.advance(DPOP_NONCE_WINDOW_SECONDS - 1);
    expect(nonces.current()).toBe(first);
    clock.advance(1);
    expect(nonces.current()).not.toBe(first);
  });

  it('accepts the current and the previous window, not older ones', () => {
    const clock = new TestClock(WINDOW_START);
    const nonces = createDpopNonces({ secret: SECRET, clock });
    const handedOut = nonces.current();
    expect(nonces.isValid(handedOut)).toBe(true);
    clock.advance(DPOP_NONCE_WINDOW_SECONDS);
    expect(nonces.isValid(handedOut)).toBe(true);
    clock.advance(DPOP_NONCE_WINDOW_SECONDS);
    expect(nonces.isValid(handedOut)).toBe(false);
  });

  it("accepts the next window's nonce: another instance whose clock is a little ahead hands it out", () => {
    const behind = createDpopNonces({ secret: SECRET, clock: new TestClock(new Date(WINDOW_START.getTime() + 59_900)) });
    const ahead = createDpopNonces({ secret: SECRET, clock: new TestClock(new Date(WINDOW_START.getTime() + 60_100)) });
    expect(ahead.current()).not.toBe(behind.current());
    expect(behind.isValid(ahead.current())).toBe(true);
    expect(ahead.isValid(behind.current())).toBe(true);
  });

  it('is valid on every instance that shares the secret, and on none that does not', () => {
    const clock = new TestClock(WINDOW_START);
    const one = createDpopNonces({ secret: SECRET, clock });
    const two = createDpopNonces({ secret: Buffer.from(SECRET), clock });
    const stranger = createDpopNonces({ secret: deriveDpopNonceSecret('another-key-encryption-secret-of-32-chars'), clock });
    expect(two.isValid(one.current())).toBe(true);
    expect(stranger.isValid(one.current())).toBe(false);
  });

  it.each(['', 'short', 'A'.repeat(43), `${'é'.repeat(43)}`, 'A'.repeat(44)])('refuses %p without throwing', (nonce) => {
    const nonces = createDpopNonces({ secret: SECRET, clock: new TestClock(WINDOW_START) });
    expect(nonces.isValid(nonce)).toBe(false);
  });

  it('takes another window length', () => {
    const clock = new TestClock(WINDOW_START);
    const nonces = createDpopNonces({ secret: SECRET, clock, windowSeconds: 300 });
    const handedOut = nonces.current();
    clock.advance(599);
    expect(nonces.isValid(handedOut)).toBe(true);
    clock.advance(1);
    expect(nonces.isValid(handedOut)).toBe(false);
    expect(() => createDpopNonces({ secret: SECRET, clock, windowSeconds: 0 })).toThrow();
  });
});
