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
  /**
   * Seconds an instance may take to learn of a new key and publish it in its JWKS (its key refresh
   * interval): the publish-ahead time counts from when every instance publishes the key, so that a
   * resource server caching any instance's JWKS for KEY_PUBLISH_AHEAD never meets an unknown kid.
   */
  publicationLag: number;
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
  const nextPublishedLongEnough = next !== undefined && secondsSince(next.createdAt, now) >= timings.publishAhead + timings.publicationLag;
  const rotate = signedLongEnough && nextPublishedLongEnough;
  return { createCurrent: false, rotate, createNext: rotate || !next, remove };
}

/**
 * When the scheduled rotation is due, by the rule planKeyChanges applies: the current key has
 * signed for the rotation interval and the next key has been published for the publish-ahead
 * time at every instance. A next key not yet created is published at `now`. Null while no key signs. A time in the
 * past means the rotation is overdue: an instance makes it at its next tick.
 */
export function nextRotationAt(
  keys: readonly SigningKey[],
  now: Date,
  timings: Pick<KeyTimings, 'rotationInterval' | 'publishAhead' | 'publicationLag'>,
): Date | null {
  const current = keys.find((k) => k.state === 'current');
  if (!current) return null;
  const next = keys.find((k) => k.state === 'next');
  const signedLongEnough = (current.activatedAt ?? current.createdAt).getTime() + timings.rotationInterval * 1000;
  const publishedLongEnough = (next?.createdAt ?? now).getTime() + (timings.publishAhead + timings.publicationLag) * 1000;
  return new Date(Math.max(signedLongEnough, publishedLongEnough));
}

function secondsSince(then: Date, now: Date): number {
  return (now.getTime() - then.getTime()) / 1000;
}
