import type { Queryable } from './database.js';

/** Puts a jti on the deny list; false when it was there already. */
export async function revokeAccessToken(db: Queryable, jti: string, expiresAt: Date): Promise<boolean> {
  const rows = await db('revoked_access_tokens').insert({ jti, expires_at: expiresAt }).onConflict('jti').ignore().returning('jti');
  return rows.length === 1;
}

export async function isAccessTokenRevoked(db: Queryable, jti: string): Promise<boolean> {
  const row = await db('revoked_access_tokens').where({ jti }).first('jti');
  return row !== undefined;
}

/** Entries whose tokens have expired anyway are no longer needed. */
export async function deleteExpiredRevocations(db: Queryable, now: Date): Promise<number> {
  return db('revoked_access_tokens').where('expires_at', '<=', now).delete();
}
