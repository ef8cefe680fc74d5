import { digestsEqual, sha256Hex } from '../lib/hash.js';
import { findClientById, type Client } from '../store/clients-repository.js';
import type { Queryable } from '../store/database.js';

export interface PresentedCredentials {
  clientId: string;
  /** Absent for the `none` method (public clients). */
  secret?: string | undefined;
}

/** Checks client credentials; remembers successes for a moment (see createClientAuthentication). */
export interface ClientAuthentication {
  /** The client when the credentials are right, otherwise undefined. Constant-time on the secret. */
  verify(credentials: PresentedCredentials): Promise<Client | undefined>;
  /**
   * A client by id, for private_key_jwt, whose assertion the caller then checks: from the cache
   * when that client authenticated within the TTL, otherwise from the database. Call `remember()`
   * once its assertion has verified.
   */
  findClient(clientId: string): Promise<{ client: Client; remember(): void } | undefined>;
  /** The client, if these exact credentials were verified within the TTL (no database lookup). */
  remembered(credentials: PresentedCredentials): Client | undefined;
  /** Forgets every remembered success: called by every change to a client in this process. */
  forget(): void;
}

/**
 * Successful client authentications are remembered for CLIENT_AUTH_CACHE_TTL_MS, keyed by a hash of
 * id and secret, sparing the client lookup on every /token, /introspect and /revoke request. Only
 * successes: an unknown id and a wrong secret both still ask the database, so response times do
 * not tell which client ids exist, and a client created by another process works at once. A change
 * to a client made through this object's owner empties it; a client deleted or given a new secret
 * elsewhere (another instance, the CLI) keeps authenticating here for at most the TTL.
 */
export const CLIENT_AUTH_CACHE_TTL_MS = 2_000;
const CLIENT_AUTH_CACHE_MAX_ENTRIES = 10_000;

export function createClientAuthentication(
  db: Queryable,
  now: () => number = () => performance.now(),
  ttlMs: number = CLIENT_AUTH_CACHE_TTL_MS,
): ClientAuthentication {
  const remembered = new Map<string, { client: Client; until: number }>();
  // Bumped by forget(): a lookup that overlapped a change remembers nothing.
  let generation = 0;
  const keyOf = (credentials: PresentedCredentials, presentedHash: string): string =>
    sha256Hex(`${credentials.clientId}\u0000${credentials.secret === undefined ? 'none' : `secret:${presentedHash}`}`);
  const hitFor = (cacheKey: string): Client | undefined => {
    const hit = remembered.get(cacheKey);
    return hit && hit.until > now() ? hit.client : undefined;
  };
  return {
    remembered(credentials) {
      return hitFor(keyOf(credentials, sha256Hex(credentials.secret ?? '')));
    },
    async verify(credentials) {
      const presentedHash = sha256Hex(credentials.secret ?? '');
      const cacheKey = keyOf(credentials, presentedHash);
      const hit = hitFor(cacheKey);
      if (hit) return hit;

      const lookedUpIn = generation;
      const client = await findClientById(db, credentials.clientId);
      if (!client) return undefined;
      // A private_key_jwt client authenticates only with an assertion (verifyClientAssertion), never here.
      const verified =
        client.authMethod === 'none'
          ? credentials.secret === undefined
          : client.authMethod === 'client_secret_basic' &&
            client.secretHash !== null &&
            credentials.secret !== undefined &&
            digestsEqual(presentedHash, client.secretHash);
      if (!verified) return undefined;
      if (lookedUpIn === generation) {
        if (remembered.size >= CLIENT_AUTH_CACHE_MAX_ENTRIES) remembered.clear();
        remembered.set(cacheKey, { client, until: now() + ttlMs });
      }
      return client;
    },
    async findClient(clientId) {
      const cacheKey = sha256Hex(`${clientId}\u0000assertion`);
      const hit = remembered.get(cacheKey);
      if (hit && hit.until > now()) return { client: hit.client, remember: () => undefined };
      const lookedUpIn = generation;
      const client = await findClientById(db, clientId);
      if (!client) return undefined;
      return {
        client,
        remember() {
          if (lookedUpIn !== generation) return;
          if (remembered.size >= CLIENT_AUTH_CACHE_MAX_ENTRIES) remembered.clear();
          remembered.set(cacheKey, { client, until: now() + ttlMs });
        },
      };
    },
    forget() {
      generation++;
      remembered.clear();
    },
  };
}
