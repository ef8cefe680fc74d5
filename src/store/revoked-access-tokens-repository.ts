import type { Queryable } from './database.js';
import { isUuid } from '../lib/uuid.js';

/** Puts a jti on the deny list; false when it was there already. */
export async function revokeAccessToken(db: Queryable, jti: string, expiresAt: Date): Promise<boolean> {
  const rows = await db('revoked_access_tokens').insert({ jti, expires_at: expiresAt }).onConflict('jti').ignore().returning('jti');
  return rows.length === 1;
}

/**
 * One round trip for everything that can end an access token before its exp: its jti on the deny
 * list; its client gone, re-created after the token was issued, or revoked since (the client's
 * tokens_valid_after); and, for a token from a grant, the grant revoked, expired or gone.
 */
export async function findAccessTokenStanding(
  db: Queryable,
  token: { jti: string; grantId: string | undefined; clientId: string; issuedAt: Date; now: Date },
): Promise<{ live: boolean }> {
  if (!isUuid(token.jti) || (token.grantId !== undefined && !isUuid(token.grantId))) return { live: false };
  const result = await db.raw<{ rows: { live: boolean }[] }>(
    `SELECT NOT EXISTS (SELECT 1 FROM revoked_access_tokens WHERE jti = ?)
        AND EXISTS (SELECT 1 FROM clients WHERE id = ? AND created_at <= ? AND (tokens_valid_after IS NULL OR tokens_valid_after < ?))
        AND (?::uuid IS NULL OR EXISTS (SELECT 1 FROM grants WHERE id = ?::uuid AND client_id = ? AND revoked_at IS NULL AND expires_at > ?)) AS live`,
    [token.jti, token.clientId, token.issuedAt, token.issuedAt, token.grantId ?? null, token.grantId ?? null, token.clientId, token.now],
  );
  return { live: result.rows[0]?.live === true };
}
