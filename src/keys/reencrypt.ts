import type { Database } from '../store/database.js';
import { listSigningKeys, lockKeyRotation, updateSigningKey } from '../store/signing-keys-repository.js';
import { canDecryptPrivateKey, decryptPrivateKey, encryptPrivateKey, KeyDecryptionError } from './key-crypto.js';

export interface ReencryptionResult {
  /** Keys decrypted with the old secret and stored again under the new one. */
  reencrypted: number;
  /** Keys already under the new secret (a repeated run), left as they are. */
  unchanged: number;
}

/**
 * Changing KEY_ENCRYPTION_SECRET: every private key is decrypted with `oldSecret` and encrypted
 * again under `newSecret`, in one transaction under the rotation lock, so the table never holds
 * keys under two secrets and no rotation interleaves. A key neither secret opens aborts it all.
 */
export async function reencryptSigningKeys(db: Database, oldSecret: string, newSecret: string): Promise<ReencryptionResult> {
  return db.transaction(async (tx) => {
    await lockKeyRotation(tx);
    const result: ReencryptionResult = { reencrypted: 0, unchanged: 0 };
    for (const key of await listSigningKeys(tx)) {
      let plaintext: string;
      try {
        plaintext = decryptPrivateKey(oldSecret, key.privateKeyEncrypted);
      } catch {
        if (canDecryptPrivateKey(newSecret, key.privateKeyEncrypted)) {
          result.unchanged += 1;
          continue;
        }
        throw new KeyDecryptionError(`neither the old secret (standard input) nor KEY_ENCRYPTION_SECRET decrypts signing key ${key.kid}; nothing was changed`);
      }
      await updateSigningKey(tx, key.kid, { privateKeyEncrypted: encryptPrivateKey(newSecret, plaintext) });
      result.reencrypted += 1;
    }
    return result;
  });
}
