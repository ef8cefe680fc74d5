import { statusEntryOfJti, statusJti } from '../../src/lib/status-jti.js';
import { issuedAt } from '../../src/tokens/access-token.js';
import { isUuid } from '../../src/lib/uuid.js';

describe('a jti that names its status list entry', () => {
  const msecs = Date.UTC(2026, 10, 29, 1, 2, 3, 456);

  it('is a UUIDv7 carrying the issue time, and gives back list and index', () => {
    for (const entry of [
      { listId: 1, idx: 0 },
      { listId: 7, idx: 2 ** 20 - 1 },
      { listId: 2 ** 28 - 1, idx: 4711 },
    ]) {
      const jti = statusJti(msecs, entry) as string;
      expect(isUuid(jti)).toBe(true);
      expect(jti).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
      expect(issuedAt({ jti, iat: Math.floor(msecs / 1000) }).getTime()).toBe(msecs);
      expect(statusEntryOfJti(jti)).toEqual(entry);
      expect(statusEntryOfJti(jti.toUpperCase())).toEqual(entry);
    }
  });

  it('is not made for entries that do not fit, and other jtis name no entry', () => {
    expect(statusJti(msecs, { listId: 2 ** 28, idx: 0 })).toBeUndefined();
    expect(statusJti(msecs, { listId: 1, idx: 2 ** 20 })).toBeUndefined();
    expect(statusJti(msecs, { listId: -1, idx: 0 })).toBeUndefined();
    for (const jti of ['0192f5a0-1234-7abc-8def-0123456789ab', 'not-a-uuid', '', '0192f5a0-1234-45a7-8def-0000001000ff']) {
      expect(statusEntryOfJti(jti)).toBeUndefined();
    }
  });
});
