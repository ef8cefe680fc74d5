import type { KeyObject } from 'node:crypto';
import type { JWK } from 'jose';
import { importPublicJwk } from '../lib/jwk.js';
import { setBounded } from '../lib/bounded-map.js';
import type { Clock } from '../lib/clock.js';
import { checkJwksUri, MAX_JWKS_BYTES, usableRemoteKeys, type ClientJwkSet } from './client-jwks.js';

/** The keys a client signs its assertions with, wherever they come from. */
export interface ClientKeys {
  /** The keys to check a signature with now. Throws JwksUnavailable when there are none to be had. */
  current(): Promise<readonly JWK[]>;
  /**
   * For when no key verified the signature (the client rolled its keys over): fetches a jwks_uri
   * again, unless it was fetched within the refetch interval. The new keys, or undefined when
   * nothing was (or could be) fetched. A stored JWK Set never changes here.
   */
  refetch(): Promise<readonly JWK[] | undefined>;
}

/** Where a client's keys are: registered with it, or published by it. */
export type ClientKeySource = { type: 'jwks'; jwks: ClientJwkSet } | { type: 'jwks_uri'; uri: string };

export interface ClientKeysRegistry {
  keysFor(source: ClientKeySource): ClientKeys;
  /** The KeyObject of a JWK the registry handed out, imported once per JWK object (importing costs more than verifying). */
  importKey(jwk: JWK): KeyObject;
}

export interface RemoteJwksSettings {
  /** Whole fetch, connection to last byte. */
  timeoutMs: number;
  /** Largest answer read; a longer one fails the fetch. */
  maxBytes: number;
  /** How long a fetched set is used when the answer has no Cache-Control max-age. */
  defaultMaxAgeSeconds: number;
  /** Bounds on a max-age the client's server sends (no-store, no-cache and max-age=0 count as the lower one). */
  minMaxAgeSeconds: number;
  maxMaxAgeSeconds: number;
  /** Fetches of one jwks_uri are at least this far apart, however many unknown kids arrive or fetches fail. */
  refetchIntervalSeconds: number;
  /** How long past its freshness a fetched set still serves while the jwks_uri cannot be fetched. */
  maxStaleSeconds: number;
  /** Distinct jwks_uris kept; the least recently added one goes first. */
  maxCachedUris: number;
}

export const REMOTE_JWKS_DEFAULTS: Readonly<RemoteJwksSettings> = Object.freeze({
  timeoutMs: 3000,
  maxBytes: MAX_JWKS_BYTES,
  defaultMaxAgeSeconds: 300,
  minMaxAgeSeconds: 60,
  maxMaxAgeSeconds: 3600,
  refetchIntervalSeconds: 30,
  maxStaleSeconds: 3600,
  maxCachedUris: 1000,
});

/** No keys could be had for a client: a jwks_uri that failed with nothing usable cached. */
export class JwksUnavailable extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'JwksUnavailable';
  }
}

/** A registered JWK Set: always the same keys, nothing to fetch. */
export function storedClientKeys(jwks: ClientJwkSet): ClientKeys {
  const keys = Object.freeze([...jwks.keys]);
  return { current: async () => keys, refetch: async () => undefined };
}

interface RemoteState {
  keys: readonly JWK[] | undefined;
  freshUntil: number;
  staleUntil: number;
  lastAttempt: number;
  lastProblem: string | undefined;
  inFlight: Promise<readonly JWK[]> | undefined;
}

/**
 * Client keys from registered sets and from jwks_uris. A jwks_uri is fetched (GET, https or
 * loopback http, no redirects) within a timeout and a size limit, then served from memory for its
 * max-age (bounded); an unknown kid fetches again at most once per refetch interval; concurrent
 * needs of one URI share one fetch; a failing fetch never throws anything but JwksUnavailable, and
 * while it fails a set fetched before keeps serving up to maxStaleSeconds past its freshness.
 */
export function createClientKeysRegistry(options: {
  clock: Clock;
  settings?: Partial<RemoteJwksSettings> | undefined;
  /** Told of each failed fetch (at most one per URI per refetch interval), for the log: the client's assertions fail meanwhile. */
  onFetchFailure?: ((uri: string, problem: string) => void) | undefined;
}): ClientKeysRegistry {
  const settings: RemoteJwksSettings = { ...REMOTE_JWKS_DEFAULTS, ...options.settings };
  const remotes = new Map<string, ClientKeys>();
  // Keyed by the JWK objects themselves: a key set replaced (refetched, or a client changed) is let go with them.
  const imported = new WeakMap<JWK, KeyObject>();
  const now = (): number => options.clock.now().getTime();

  const remoteKeys = (uri: string): ClientKeys => {
    const state: RemoteState = {
      keys: undefined,
      freshUntil: 0,
      staleUntil: 0,
      lastAttempt: Number.NEGATIVE_INFINITY,
      lastProblem: undefined,
      inFlight: undefined,
    };

    /** Starts a fetch unless one is under way; every caller meanwhile gets the same promise. */
    const fetchShared = (): Promise<readonly JWK[]> => {
      if (state.inFlight) return state.inFlight;
      state.lastAttempt = now();
      const attempt = fetchJwks(uri, settings).then(
        (result) => {
          const at = now();
          state.keys = Object.freeze(result.keys);
          state.freshUntil = at + result.maxAgeSeconds * 1000;
          state.staleUntil = state.freshUntil + settings.maxStaleSeconds * 1000;
          state.lastProblem = undefined;
          return state.keys;
        },
        (error: unknown) => {
          state.lastProblem = error instanceof JwksUnavailable ? error.message : 'the jwks_uri could not be fetched';
          options.onFetchFailure?.(uri, state.lastProblem);
          throw error instanceof JwksUnavailable ? error : new JwksUnavailable(state.lastProblem, { cause: error });
        },
      );
      state.inFlight = attempt.finally(() => {
        state.inFlight = undefined;
      });
      // Whoever started the fetch awaits it; this only keeps a rejection nobody else awaits quiet.
      state.inFlight.catch(() => undefined);
      return state.inFlight;
    };
    const usableStale = (): readonly JWK[] | undefined => (state.keys !== undefined && now() < state.staleUntil ? state.keys : undefined);
    const refetchAllowed = (): boolean => now() - state.lastAttempt >= settings.refetchIntervalSeconds * 1000;

    return {
      async current() {
        if (state.keys !== undefined && now() < state.freshUntil) return state.keys;
        if (!state.inFlight && !refetchAllowed()) {
          const stale = usableStale();
          if (stale) return stale;
          throw new JwksUnavailable(state.lastProblem ?? 'the jwks_uri was fetched moments ago without usable keys');
        }
        try {
          return await fetchShared();
        } catch (error) {
          const stale = usableStale();
          if (stale) return stale;
          throw error;
        }
      },
      async refetch() {
        if (!state.inFlight && !refetchAllowed()) return undefined;
        try {
          return await fetchShared();
        } catch {
          return undefined;
        }
      },
    };
  };

  return {
    importKey(jwk) {
      let key = imported.get(jwk);
      if (!key) {
        key = importPublicJwk(jwk);
        imported.set(jwk, key);
      }
      return key;
    },
    keysFor(source) {
      if (source.type === 'jwks') return storedClientKeys(source.jwks);
      let keys = remotes.get(source.uri);
      if (!keys) {
        keys = remoteKeys(source.uri);
        setBounded(remotes, settings.maxCachedUris, source.uri, keys);
      }
      return keys;
    },
  };
}

/** One GET of a jwks_uri: the usable keys and how long they may be used. */
async function fetchJwks(uri: string, settings: RemoteJwksSettings): Promise<{ keys: JWK[]; maxAgeSeconds: number }> {
  const checked = checkJwksUri(uri);
  if (!checked.valid) throw new JwksUnavailable(checked.problem);
  const signal = AbortSignal.timeout(settings.timeoutMs);
  let body: string;
  let cacheControl: string | null;
  try {
    const response = await fetch(checked.uri, { signal, redirect: 'error', headers: { accept: 'application/jwk-set+json, application/json' } });
    cacheControl = response.headers.get('cache-control');
    if (response.status !== 200) {
      await response.body?.cancel();
      throw new JwksUnavailable(`the jwks_uri answered HTTP ${response.status}`);
    }
    const declared = Number(response.headers.get('content-length') ?? '0');
    if (declared > settings.maxBytes) {
      await response.body?.cancel();
      throw new JwksUnavailable(`the jwks_uri answer is larger than ${settings.maxBytes} bytes`);
    }
    body = await readLimited(response, settings.maxBytes);
  } catch (error) {
    if (error instanceof JwksUnavailable) throw error;
    if (signal.aborted) throw new JwksUnavailable(`the jwks_uri did not answer within ${settings.timeoutMs} ms`, { cause: error });
    throw new JwksUnavailable('the jwks_uri could not be fetched', { cause: error });
  }
  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch (error) {
    throw new JwksUnavailable('the jwks_uri did not answer JSON', { cause: error });
  }
  const usable = usableRemoteKeys(value);
  if ('problem' in usable) throw new JwksUnavailable(usable.problem);
  return { keys: usable.keys, maxAgeSeconds: cacheLifetimeSeconds(cacheControl, settings) };
}

async function readLimited(response: Response, maxBytes: number): Promise<string> {
  if (!response.body) return '';
  const chunks: Buffer[] = [];
  let length = 0;
  for await (const chunk of response.body) {
    length += (chunk as Uint8Array).byteLength;
    // Leaving the loop cancels the stream: nothing more is read from the socket.
    if (length > maxBytes) throw new JwksUnavailable(`the jwks_uri answer is larger than ${maxBytes} bytes`);
    chunks.push(Buffer.from(chunk as Uint8Array));
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** Cache-Control max-age, bounded; no-store, no-cache and a missing max-age fall back to the settings. */
export function cacheLifetimeSeconds(
  cacheControl: string | null,
  settings: Pick<RemoteJwksSettings, 'defaultMaxAgeSeconds' | 'minMaxAgeSeconds' | 'maxMaxAgeSeconds'>,
): number {
  const directives = (cacheControl ?? '').toLowerCase();
  const maxAge = /(?:^|[,\s])max-age\s*=\s*"?(\d{1,10})"?/.exec(directives)?.[1];
  let seconds = maxAge === undefined ? settings.defaultMaxAgeSeconds : Number(maxAge);
  if (/(?:^|[,\s])(no-store|no-cache)(?:$|[,\s=])/.test(directives)) seconds = 0;
  return Math.min(settings.maxMaxAgeSeconds, Math.max(settings.minMaxAgeSeconds, seconds));
}
