import { nextRotationAt, planKeyChanges, type KeyTimings } from '../../src/keys/lifecycle.js';
import type { KeyState, SigningKey } from '../../src/store/signing-keys-repository.js';

// publishAhead + publicationLag: a next key may sign 605 s after it was created.
const timings: KeyTimings = { rotationInterval: 3600, publishAhead: 600, publicationLag: 5, retention: 1200 };
const start = new Date('2026-01-01T00:00:00Z');

function at(seconds: number): Date {
  return new Date(start.getTime() + seconds * 1000);
}

function key(kid: string, state: KeyState, fields: Partial<SigningKey> = {}): SigningKey {
  return {
    kid,
    state,
    publicJwk: { kty: 'RSA', kid },
    privateKeyEncrypted: 'v1.x.x.x.x',
    createdAt: start,
    activatedAt: state === 'current' ? start : null,
    retiredAt: null,
    removeAfter: null,
    ...fields,
  };
}

describe('planKeyChanges: the first start', () => {
  it('creates a signing key at once and publishes a successor when the table is empty', () => {
    expect(planKeyChanges([], start, timings)).toEqual({ createCurrent: true, rotate: false, createNext: true, remove: [] });
  });

  it('promotes an existing next key rather than creating a current one when no key signs', () => {
    expect(planKeyChanges([key('n', 'next')], at(5), timings)).toEqual({ createCurrent: false, rotate: true, createNext: true, remove: [] });
  });

  it('publishes a next key when only a current one exists', () => {
    expect(planKeyChanges([key('c', 'current')], at(5), timings)).toEqual({ createCurrent: false, rotate: false, createNext: true, remove: [] });
  });
});

describe('planKeyChanges: scheduled rotation', () => {
  const keys = [key('c', 'current'), key('n', 'next')];

  it('changes nothing while the current key has signed for less than the rotation interval', () => {
    expect(planKeyChanges(keys, at(3599), timings)).toEqual({ createCurrent: false, rotate: false, createNext: false, remove: [] });
  });

  it('rotates and publishes a new next key once the current key has signed for the rotation interval', () => {
    expect(planKeyChanges(keys, at(3600), timings)).toEqual({ createCurrent: false, rotate: true, createNext: true, remove: [] });
  });

  it('counts the signing time from activation, not creation (a key that waited as next)', () => {
    const promoted = [key('c', 'current', { createdAt: start, activatedAt: at(3600) }), key('n', 'next', { createdAt: at(3600) })];
    expect(planKeyChanges(promoted, at(3600 + 3599), timings).rotate).toBe(false);
    expect(planKeyChanges(promoted, at(3600 + 3600), timings).rotate).toBe(true);
  });

  it('waits until the next key has been published for KEY_PUBLISH_AHEAD at every instance, however overdue the rotation', () => {
    const young = [key('c', 'current'), key('n', 'next', { createdAt: at(10_000) })];
    expect(planKeyChanges(young, at(10_000 + 599), timings)).toEqual({ createCurrent: false, rotate: false, createNext: false, remove: [] });
    // An instance that re-reads the keys every 5 s may have published it only 5 s after its creation.
    expect(planKeyChanges(young, at(10_000 + 604), timings).rotate).toBe(false);
    expect(planKeyChanges(young, at(10_000 + 605), timings).rotate).toBe(true);
  });

  it('never rotates without a published next key; it publishes one first', () => {
    expect(planKeyChanges([key('c', 'current')], at(99_999), timings)).toEqual({ createCurrent: false, rotate: false, createNext: true, remove: [] });
  });
});

describe('planKeyChanges: retired keys leave after their retention', () => {
  const live = [key('c', 'current', { activatedAt: at(3600) }), key('n', 'next', { createdAt: at(3600) })];

  it('keeps a retired key until remove_after and removes it from then on', () => {
    const retired = key('r', 'retired', { retiredAt: at(3600), removeAfter: at(3600 + 1200) });
    expect(planKeyChanges([...live, retired], at(3600 + 1199), timings).remove).toEqual([]);
    expect(planKeyChanges([...live, retired], at(3600 + 1200), timings).remove).toEqual(['r']);
  });

  it('removes every expired retired key at once, and only those', () => {
    const old = key('old', 'retired', { removeAfter: at(100) });
    const older = key('older', 'retired', { removeAfter: at(50) });
    const recent = key('recent', 'retired', { removeAfter: at(5000) });
    expect(planKeyChanges([...live, old, older, recent], at(200), timings).remove.sort()).toEqual(['old', 'older']);
  });

  it('never removes a current or next key, whatever their timestamps', () => {
    const stale = [key('c', 'current', { removeAfter: at(1) }), key('n', 'next', { removeAfter: at(1) })];
    expect(planKeyChanges(stale, at(100), timings).remove).toEqual([]);
  });
});

describe('nextRotationAt: when planKeyChanges will rotate', () => {
  it('is when the current key has signed for the rotation interval, if the next key is published by then', () => {
    const keys = [key('c', 'current'), key('n', 'next', { createdAt: at(60) })];
    expect(nextRotationAt(keys, at(100), timings)).toEqual(at(3600));
    expect(planKeyChanges(keys, at(3599), timings).rotate).toBe(false);
    expect(planKeyChanges(keys, at(3600), timings).rotate).toBe(true);
  });

  it('waits for the next key to have been published for the publish-ahead time', () => {
    const keys = [key('c', 'current'), key('n', 'next', { createdAt: at(3500) })];
    expect(nextRotationAt(keys, at(3500), timings)).toEqual(at(4105));
    expect(planKeyChanges(keys, at(4104), timings).rotate).toBe(false);
    expect(planKeyChanges(keys, at(4105), timings).rotate).toBe(true);
  });

  it('counts from a key activated by an on-demand rotation, and from now for a next key still to come', () => {
    expect(nextRotationAt([key('c', 'current', { createdAt: at(0), activatedAt: at(1000) })], at(4500), timings)).toEqual(at(5105));
    expect(nextRotationAt([key('c', 'current', { activatedAt: at(1000) }), key('n', 'next', { createdAt: at(1000) })], at(1000), timings)).toEqual(at(4600));
  });

  it('is null while no key signs', () => {
    expect(nextRotationAt([], start, timings)).toBeNull();
    expect(nextRotationAt([key('n', 'next')], start, timings)).toBeNull();
  });
});
