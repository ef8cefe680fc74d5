import { preparedQuery, type Queryable } from './database.js';
import { statusEntryOfJti } from '../lib/status-jti.js';
import { isUuid } from '../lib/uuid.js';

/** Puts a jti on the deny list; false when it was there already. */
export async function revokeAccessToken(db: Queryable, jti: string, expiresAt: Date): Promise<boolean> {
  const rows = await db('revoked_access_tokens').insert({ jti, expires_at: expiresAt }).onConflict('jti').ignore().returning('jti');
  return rows.length === 1;
}

/** What can end an access token before its exp, as findAccessTokenStandings looks it up. */
export interface AccessTokenReference {
  jti: string;
  grantId: string | undefined;
  clientId: string;
  issuedAt: Date;
  now: Date;
}

/**
 * One round trip for everything that can end each of these access tokens before its exp: its jti on
 * the deny list; its client gone, re-created after the token was issued, or revoked since (the
 * client's tokens_valid_after); for a token from a grant, the grant revoked, expired or gone; and
 * the block of status list indices its jti names revoked (a revocation by client sets every bit of
 * the client's blocks leased before it). That last one keeps /introspect and the status list in
 * agreement about a token another instance issued from such a block in the moments before it
 * learnt of the revocation: both say revoked. One statement for any number of tokens (`unnest` of
 * one array per field); the answers come in the order of `tokens`.
 */
export async function findAccessTokenStandings(db: Queryable, tokens: AccessTokenReference[]): Promise<boolean[]> {
  const wellFormed = tokens.map((token) => isUuid(token.jti) && (token.grantId === undefined || isUuid(token.grantId)));
  const asked = tokens.filter((_, index) => wellFormed[index]);
  if (asked.length === 0) return tokens.map(() => false);
  const entries = asked.map((token) => statusEntryOfJti(token.jti));
  const result = await preparedQuery<{ i: string | number; live: boolean }>(
    db,
    'find_access_token_standings',
    `SELECT t.i,
            NOT EXISTS (SELECT 1 FROM revoked_access_tokens r WHERE r.jti = t.jti)
        AND EXISTS (SELECT 1 FROM clients c WHERE c.id = t.client_id AND c.created_at <= t.issued_at AND (c.tokens_valid_after IS NULL OR c.tokens_valid_after < t.issued_at))
        AND (t.grant_id IS NULL OR EXISTS (SELECT 1 FROM grants g WHERE g.id = t.grant_id AND g.client_id = t.client_id AND g.revoked_at IS NULL AND g.expires_at > t.now))
        AND (t.list_id IS NULL OR NOT COALESCE((SELECT b.revoked_at IS NOT NULL AND t.idx < b.first_idx + b.count FROM status_list_blocks b
              WHERE b.list_id = t.list_id AND b.first_idx <= t.idx ORDER BY b.first_idx DESC LIMIT 1), false)) AS live
       FROM unnest(?::uuid[], ?::text[], ?::timestamptz[], ?::uuid[], ?::timestamptz[], ?::int[], ?::int[]) WITH ORDINALITY AS t(jti, client_id, issued_at, grant_id, now, list_id, idx, i)`,
    [
      asked.map((token) => token.jti),
      asked.map((token) => token.clientId),
      asked.map((token) => token.issuedAt.toISOString()),
      // null for client_credentials tokens (no grant).
      asked.map((token) => token.grantId ?? null),
      asked.map((token) => token.now.toISOString()),
      // null for tokens whose jti names no status list entry.
      entries.map((entry) => entry?.listId ?? null),
      entries.map((entry) => entry?.idx ?? null),
    ],
  );
  const live = new Array<boolean>(asked.length).fill(false);
  for (const row of result.rows) live[Number(row.i) - 1] = row.live === true;
  let next = 0;
  return wellFormed.map((ok) => (ok ? live[next++]! : false));
}
