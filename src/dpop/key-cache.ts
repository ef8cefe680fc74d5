import type { KeyObject } from 'node:crypto';
import { calculateJwkThumbprint, type JWK } from 'jose';
import { importPublicJwk, jwkThumbprintInput } from '../lib/jwk.js';

/** A proof key, imported, with its RFC 7638 thumbprint. */
export interface DpopKey {
  key: KeyObject;
  jkt: string;
}

/** Turns the `jwk` of a proof into a key; throws when its numbers do not form one. */
export interface DpopKeyCache {
  resolve(jwk: JWK): Promise<DpopKey>;
}

/** Most proof keys kept; the least recently added goes first. */
export const DPOP_KEY_CACHE_MAX_ENTRIES = 10_000;

async function importDpopKey(jwk: JWK): Promise<DpopKey> {
  const key = importPublicJwk(jwk);
  return { key, jkt: await calculateJwkThumbprint({ ...jwk }, 'sha256') };
}

/** No cache: every proof's key is imported and its thumbprint computed anew. */
export const uncachedDpopKeys: DpopKeyCache = Object.freeze({ resolve: importDpopKey });

/**
 * A client sends every proof with the same key, so importing it (and hashing its thumbprint) once
 * saves about half the cost of checking a proof. Keyed by the RFC 7638 thumbprint input, which is
 * the whole public key: a hit is the same key, never a look-alike. Bounded; made in createDeps.
 */
export function createDpopKeyCache(options: { maxEntries?: number | undefined } = {}): DpopKeyCache {
  const maxEntries = options.maxEntries ?? DPOP_KEY_CACHE_MAX_ENTRIES;
  const keys = new Map<string, DpopKey>();
  return {
    async resolve(jwk) {
      const input = jwkThumbprintInput(jwk);
      const cached = keys.get(input);
      if (cached) return cached;
      const imported = await importDpopKey(jwk);
      if (keys.size >= maxEntries) keys.delete(keys.keys().next().value as string);
      keys.set(input, imported);
      return imported;
    },
  };
}
