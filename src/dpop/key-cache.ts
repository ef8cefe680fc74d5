import type { KeyObject } from 'node:crypto';
import { calculateJwkThumbprint, type JWK } from 'jose';
import { importPublicJwk, jwkThumbprintInput } from '../lib/jwk.js';
import { setBounded } from '../lib/bounded-map.js';

/** A proof key, imported, with its RFC 7638 thumbprint. */
export interface DpopKey {
  key: KeyObject;
  jkt: string;
}

/** What a proof header that passed every check of RFC 9449 §4.3 (typ, alg, jwk) comes to. */
export interface CheckedDpopHeader {
  alg: string;
  key: DpopKey;
  /** The public members of the header's jwk. */
  publicJwk: JWK;
}

/**
 * Turns the `jwk` of a proof into a key (throws when its numbers do not form one), and remembers
 * proof headers that passed every check, by their base64url text.
 */
export interface DpopKeyCache {
  resolve(jwk: JWK): Promise<DpopKey>;
  /** A header seen and found good before: the same text decodes to the same header. */
  checkedHeader(segment: string): CheckedDpopHeader | undefined;
  rememberHeader(segment: string, checked: CheckedDpopHeader): void;
}

/** Most proof keys (and, apart, most proof headers) kept; the least recently added goes first. */
export const DPOP_KEY_CACHE_MAX_ENTRIES = 10_000;

async function importDpopKey(jwk: JWK): Promise<DpopKey> {
  const key = importPublicJwk(jwk);
  return { key, jkt: await calculateJwkThumbprint({ ...jwk }, 'sha256') };
}

/** No cache: every proof's key is imported and its thumbprint computed anew. */
export const uncachedDpopKeys: DpopKeyCache = Object.freeze({
  resolve: importDpopKey,
  checkedHeader: () => undefined,
  rememberHeader: () => undefined,
});

/**
 * A client sends every proof with the same key, and usually the same header, so importing the key
 * (and hashing its thumbprint) once saves about half the cost of checking a proof, and skipping the
 * header's decoding and checks (by its exact text) a few microseconds more. Keys are keyed by the
 * RFC 7638 thumbprint input, which is the whole public key: a hit is the same key, never a
 * look-alike. Bounded; made in createDeps.
 */
export function createDpopKeyCache(options: { maxEntries?: number | undefined } = {}): DpopKeyCache {
  const maxEntries = options.maxEntries ?? DPOP_KEY_CACHE_MAX_ENTRIES;
  const keys = new Map<string, DpopKey>();
  const headers = new Map<string, CheckedDpopHeader>();
  return {
    async resolve(jwk) {
      const input = jwkThumbprintInput(jwk);
      const cached = keys.get(input);
      if (cached) return cached;
      const imported = await importDpopKey(jwk);
      setBounded(keys, maxEntries, input, imported);
      return imported;
    },
    checkedHeader: (segment) => headers.get(segment),
    rememberHeader: (segment, checked) => setBounded(headers, maxEntries, segment, checked),
  };
}
