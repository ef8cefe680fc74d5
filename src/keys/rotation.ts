import type { KeyObject } from 'node:crypto';
import { calculateJwkThumbprint, exportJWK, exportPKCS8, generateKeyPair } from 'jose';
import { addSeconds } from '../lib/clock.js';
import type { Database } from '../store/database.js';
import { deleteSigningKey, insertSigningKey, listSigningKeys, lockKeyRotation, updateSigningKey, type SigningKey } from '../store/signing-keys-repository.js';
import { SYSTEM_ACTOR, type Actor } from '../services/actor.js';
import { recordAudit } from '../services/audit.js';
import { canDecryptPrivateKey, encryptPrivateKey, KeyDecryptionError } from './key-crypto.js';
import { planKeyChanges, type KeyTimings } from './lifecycle.js';

/** Makes the RSA 2048 key pair of a new signing key. */
export type NewKeyPair = () => Promise<{ publicKey: CryptoKey | KeyObject; privateKey: CryptoKey | KeyObject }>;

export const newRsaKeyPair: NewKeyPair = () => generateKeyPair('RS256', { modulusLength: 2048, extractable: true });

export interface RotationSettings extends KeyTimings {
  encryptionSecret: string;
  /** Where new key pairs come from: newRsaKeyPair, unless a test hands out pairs made beforehand. */
  newKeyPair?: NewKeyPair | undefined;
}

export interface RotationResult {
  current: string;
  next: string;
  rotated: boolean;
}

/**
 * A fresh RSA 2048 key pair, kid = RFC 7638 thumbprint, private half encrypted. Created at `now`
 * plus the time the generation took (up to a second on a slow machine): a next key's publish-ahead
 * time counts from then, when it can be committed and seen.
 */
export async function createSigningKey(
  encryptionSecret: string,
  state: SigningKey['state'],
  now: Date,
  newKeyPair: NewKeyPair = newRsaKeyPair,
): Promise<SigningKey> {
  const started = performance.now();
  const { publicKey, privateKey } = await newKeyPair();
  const createdAt = state === 'next' ? new Date(now.getTime() + Math.ceil(performance.now() - started)) : now;
  const jwk = await exportJWK(publicKey);
  const kid = await calculateJwkThumbprint(jwk);
  const publicJwk = { kty: jwk.kty, n: jwk.n, e: jwk.e, kid, alg: 'RS256', use: 'sig' };
  return {
    kid,
    state,
    publicJwk,
    privateKeyEncrypted: encryptPrivateKey(encryptionSecret, await exportPKCS8(privateKey)),
    createdAt,
    activatedAt: state === 'current' ? now : null,
    retiredAt: null,
    removeAfter: null,
  };
}

/**
 * Brings the stored keys up to date with the lifecycle (first key, scheduled rotation, removal),
 * or rotates at once when `force` is set. Runs under the rotation lock row, so with several
 * instances on one database exactly one makes each change and the others see it done.
 */
export async function rotateKeys(
  db: Database,
  settings: RotationSettings,
  now: Date,
  options: { force?: boolean; revokeOld?: boolean; actor?: Actor } = {},
): Promise<RotationResult> {
  return db.transaction(async (tx) => {
    await lockKeyRotation(tx);
    const keys = await listSigningKeys(tx);
    const plan = planKeyChanges(keys, now, settings);
    const current = keys.find((k) => k.state === 'current');
    let next = keys.find((k) => k.state === 'next');
    const rotate = plan.rotate || (options.force === true && current !== undefined);
    // Never add a key under a secret that cannot open the ones already there: an instance started
    // with a wrong KEY_ENCRYPTION_SECRET must fail without leaving keys under two secrets behind.
    if (plan.createCurrent || plan.createNext || rotate) assertSecretOpensSigningKeys(settings.encryptionSecret, keys);

    for (const kid of plan.remove) await deleteSigningKey(tx, kid);
    let currentKid = current?.kid;
    if (plan.createCurrent) {
      const created = await createSigningKey(settings.encryptionSecret, 'current', now, settings.newKeyPair);
      await insertSigningKey(tx, created);
      currentKid = created.kid;
    }
    if (rotate) {
      if (!next) {
        // On-demand rotation before any next key exists: make one and promote it.
        next = await createSigningKey(settings.encryptionSecret, 'next', now, settings.newKeyPair);
        await insertSigningKey(tx, next);
      }
      if (current) {
        if (options.revokeOld) await deleteSigningKey(tx, current.kid);
        else
          await updateSigningKey(tx, current.kid, {
            state: 'retired',
            retiredAt: now,
            removeAfter: addSeconds(now, settings.retention),
          });
      }
      await updateSigningKey(tx, next.kid, { state: 'current', activatedAt: now });
      currentKid = next.kid;
      next = undefined;
    }
    if (!next) {
      next = await createSigningKey(settings.encryptionSecret, 'next', now, settings.newKeyPair);
      await insertSigningKey(tx, next);
    }
    if (rotate) {
      // On demand by whoever asked; on schedule by Gatehouse itself. Audited with the change.
      await recordAudit(tx, {
        actor: options.actor ?? SYSTEM_ACTOR,
        at: now,
        action: 'keys.rotate',
        details: { current: currentKid, next: next.kid, revoke_old: options.revokeOld === true, scheduled: options.force !== true },
      });
    }
    return { current: currentKid as string, next: next.kid, rotated: rotate };
  });
}

/** Throws KeyDecryptionError unless `secret` decrypts the keys that sign or will sign (current, next). */
export function assertSecretOpensSigningKeys(secret: string, keys: readonly SigningKey[]): void {
  for (const key of keys) {
    if (key.state !== 'retired' && !canDecryptPrivateKey(secret, key.privateKeyEncrypted)) throw new KeyDecryptionError();
  }
}
