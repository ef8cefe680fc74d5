import type { SigningKey } from '../store/signing-keys-repository.js';

/**
 * The key lifecycle as a pure function: given the stored keys and the time, what must change.
 * next (published, not signing) → current (signing) → retired (published until every token it
 * signed has expired) → removed.
 */
export interface KeyTimings {
  /** Seconds a key signs before the next one takes over. */
  rotationInterval: number;
  /** Seconds a new key is published before it may sign. */
  publishAhead: number;
  /** Seconds a retired key stays published: the access-token lifetime plus leeway. */
  retention: number;
}

export interface KeyPlan {
  /** Create a signing key at once (no current key exists yet). */
  createCurrent: boolean;
  /** Promote next → current, current → retired. */
  rotate: boolean;
  /** Create a new next key (none exists, or the rotation consumes it). */
  createNext: boolean;
  /** Retired keys past their retention. */
  remove: string[];
}

export function planKeyChanges(keys: readonly SigningKey[], now: Date, timings: KeyTimings): KeyPlan {
  const current = keys.find((k) => k.state === 'current');
  const next = keys.find((k) => k.state === 'next');
  const remove = keys.filter((k) => k.state === 'retired' && k.removeAfter !== null && k.removeAfter <= now).map((k) => k.kid);
  if (!current) {
    // First start (or a store emptied by hand): sign at once, and publish a successor.
    return { createCurrent: !next, rotate: Boolean(next), createNext: true, remove };
  }
  const signedLongEnough = secondsSince(current.activatedAt ?? current.createdAt, now) >= timings.rotationInterval;
  const nextPublishedLongEnough = next !== undefined && secondsSince(next.createdAt, now) >= timings.publishAhead;
  const rotate = signedLongEnough && nextPublishedLongEnough;
  return { createCurrent: false, rotate, createNext: rotate || !next, remove };
}

function secondsSince(then: Date, now: Date): number {
  return (now.getTime() - then.getTime()) / 1000;
}
