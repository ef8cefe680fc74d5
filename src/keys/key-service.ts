import { createHash, type KeyObject } from 'node:crypto';
import { importPKCS8, type JWK } from 'jose';
import type { Clock } from '../lib/clock.js';
import { importPublicJwk } from '../lib/jwk.js';
import type { Database } from '../store/database.js';
import { listSigningKeys, type SigningKey } from '../store/signing-keys-repository.js';
import type { Actor } from '../services/actor.js';
import { decryptPrivateKey } from './key-crypto.js';
import { nextRotationAt } from './lifecycle.js';
import { rotateKeys, type RotationResult, type RotationSettings } from './rotation.js';

export interface ActiveSigningKey {
  kid: string;
  privateKey: CryptoKey;
}

export interface JwksDocument {
  body: string;
  etag: string;
}

/**
 * Holds the keys in memory: the current signing key (decrypted once), the JWKS body and its ETag,
 * and the public keys our own tokens verify with (keyFor). Nothing here queries the database per request;
 * `refresh()` re-reads the table on a short timer so every instance follows a rotation.
 */
export class KeyService {
  private signing: ActiveSigningKey | undefined;
  private document: JwksDocument | undefined;
  private publicKeys = new Map<string, KeyObject>();
  private keys: SigningKey[] = [];
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;

  constructor(
    private readonly db: Database,
    private readonly settings: RotationSettings,
    private readonly clock: Clock,
  ) {}

  /** Creates the first keys if there are none, applies any due rotation, and loads the result. */
  async initialize(): Promise<void> {
    await rotateKeys(this.db, this.settings, this.clock.now());
    await this.refresh();
  }

  async refresh(): Promise<void> {
    const keys = await listSigningKeys(this.db);
    const current = keys.find((k) => k.state === 'current');
    if (!current) throw new Error('no current signing key in the database');
    if (this.signing?.kid !== current.kid) {
      const pkcs8 = decryptPrivateKey(this.settings.encryptionSecret, current.privateKeyEncrypted);
      this.signing = { kid: current.kid, privateKey: await importPKCS8(pkcs8, 'RS256') };
    }
    const published = keys.filter((k) => k.removeAfter === null || k.removeAfter > this.clock.now());
    const jwks = { keys: published.map((k) => k.publicJwk) };
    const body = JSON.stringify(jwks);
    if (body !== this.document?.body) {
      this.document = { body, etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"` };
      // A kid names one key for good: keys still published keep their objects (and the tokens remembered as verified with them).
      this.publicKeys = new Map(published.map((k) => [k.kid, this.publicKeys.get(k.kid) ?? importPublicJwk(k.publicJwk as JWK)]));
    }
    this.keys = keys;
  }

  /**
   * Applies scheduled rotation and removal (only one instance acts), then reloads. The reload runs
   * even when the rotation step fails (a lock timeout, say), so this instance still follows a
   * rotation another instance made.
   */
  async tick(): Promise<void> {
    let rotationError: unknown;
    try {
      await rotateKeys(this.db, this.settings, this.clock.now());
    } catch (error) {
      rotationError = error;
    }
    await this.refresh();
    // Rethrown as it came (the caller logs it), after the reload above.
    // eslint-disable-next-line @typescript-eslint/only-throw-error
    if (rotationError !== undefined) throw rotationError;
  }

  /** Rotates at once, audited as done by `actor`. */
  async rotateNow(options: { revokeOld?: boolean; actor: Actor }): Promise<RotationResult> {
    const result = await rotateKeys(this.db, this.settings, this.clock.now(), { force: true, ...options });
    await this.refresh();
    return result;
  }

  /** Re-reads the keys every `intervalMs` (and rotates when due) until stop(). */
  start(intervalMs: number, onError: (error: unknown) => void): void {
    void this.stop();
    this.timer = setInterval(() => {
      // A slow database must not pile ticks up behind the rotation lock.
      if (this.running) return;
      this.running = this.tick()
        .catch(onError)
        .finally(() => {
          this.running = undefined;
        });
    }, intervalMs);
    this.timer.unref();
  }

  /** Stops the timer; the promise settles when a tick already under way has finished. */
  stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    return this.running ?? Promise.resolve();
  }

  signingKey(): ActiveSigningKey {
    if (!this.signing) throw new Error('KeyService used before initialize()');
    return this.signing;
  }

  jwks(): JwksDocument {
    if (!this.document) throw new Error('KeyService used before initialize()');
    return this.document;
  }

  /**
   * The public key of a kid we publish, imported once per key set: what our own tokens verify with
   * (src/tokens/access-token-verification.ts). Undefined for a kid not (or no longer) published.
   */
  keyFor(kid: string): KeyObject | undefined {
    return this.publicKeys.get(kid);
  }

  /** The keys as this instance last loaded them. */
  list(): readonly SigningKey[] {
    return this.keys;
  }

  /** The keys as stored right now (what an admin asking for them expects to see). */
  listStored(): Promise<SigningKey[]> {
    return listSigningKeys(this.db);
  }

  /** When the scheduled rotation of these stored keys is due, under this service's timings (lifecycle.ts). */
  nextRotationAt(keys: readonly SigningKey[]): Date | null {
    return nextRotationAt(keys, this.clock.now(), this.settings);
  }
}
