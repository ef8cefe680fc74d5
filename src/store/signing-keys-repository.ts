import type { Changes } from '../lib/changes.js';
import type { Queryable } from './database.js';

export type KeyState = 'next' | 'current' | 'retired';

export interface SigningKeyRow {
  kid: string;
  state: KeyState;
  public_jwk: Record<string, unknown>;
  private_key_encrypted: string;
  created_at: Date;
  activated_at: Date | null;
  retired_at: Date | null;
  remove_after: Date | null;
}

export interface SigningKey {
  kid: string;
  state: KeyState;
  publicJwk: Record<string, unknown>;
  privateKeyEncrypted: string;
  createdAt: Date;
  activatedAt: Date | null;
  retiredAt: Date | null;
  removeAfter: Date | null;
}

export function toSigningKey(row: SigningKeyRow): SigningKey {
  return {
    kid: row.kid,
    state: row.state,
    publicJwk: row.public_jwk,
    privateKeyEncrypted: row.private_key_encrypted,
    createdAt: row.created_at,
    activatedAt: row.activated_at,
    retiredAt: row.retired_at,
    removeAfter: row.remove_after,
  };
}

export async function listSigningKeys(db: Queryable): Promise<SigningKey[]> {
  // A total order (kid breaks ties: the first two keys share created_at), so every instance builds
  // the same JWKS body and therefore the same ETag.
  const rows = await db<SigningKeyRow>('signing_keys').orderBy([
    { column: 'created_at', order: 'asc' },
    { column: 'kid', order: 'asc' },
  ]);
  return rows.map((row) => toSigningKey(row));
}

/** Takes the rotation lock row for the rest of the transaction: one instance decides at a time. */
export async function lockKeyRotation(tx: Queryable): Promise<void> {
  const rows = await tx('key_rotation_lock').where({ id: 1 }).forUpdate().select('id');
  // Without the row nothing would be locked and two instances could rotate at once.
  if (rows.length !== 1) throw new Error('key_rotation_lock has no row 1: run the migrations, or insert it (INSERT INTO key_rotation_lock (id) VALUES (1))');
}

export async function insertSigningKey(db: Queryable, key: SigningKey): Promise<void> {
  await db('signing_keys').insert({
    kid: key.kid,
    state: key.state,
    public_jwk: JSON.stringify(key.publicJwk),
    private_key_encrypted: key.privateKeyEncrypted,
    created_at: key.createdAt,
    activated_at: key.activatedAt,
    retired_at: key.retiredAt,
    remove_after: key.removeAfter,
  });
}

export async function updateSigningKey(
  db: Queryable,
  kid: string,
  changes: Changes<Pick<SigningKey, 'state' | 'activatedAt' | 'retiredAt' | 'removeAfter' | 'privateKeyEncrypted'>>,
): Promise<void> {
  const patch: Partial<SigningKeyRow> = {};
  if (changes.state !== undefined) patch.state = changes.state;
  if (changes.activatedAt !== undefined) patch.activated_at = changes.activatedAt;
  if (changes.retiredAt !== undefined) patch.retired_at = changes.retiredAt;
  if (changes.removeAfter !== undefined) patch.remove_after = changes.removeAfter;
  if (changes.privateKeyEncrypted !== undefined) patch.private_key_encrypted = changes.privateKeyEncrypted;
  await db('signing_keys').where({ kid }).update(patch);
}

export async function deleteSigningKey(db: Queryable, kid: string): Promise<void> {
  await db('signing_keys').where({ kid }).delete();
}
