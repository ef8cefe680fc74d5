import { randomUUID } from 'node:crypto';
import type { Queryable } from '../store/database.js';
import { endClientTokensIssuedUpTo } from '../store/clients-repository.js';
import { insertGrant, revokeGrants, type Grant, type GrantSelector } from '../store/grants-repository.js';
import { revokeAccessToken } from '../store/revoked-access-tokens-repository.js';
import type { Actor } from './actor.js';
import { recordAudit } from './audit.js';

/** Opens a token family for a user's password grant. */
export async function startGrant(
  db: Queryable,
  input: { clientId: string; userId: string; scopes: string[]; now: Date; lifetimeSeconds: number },
): Promise<Grant> {
  const grant: Grant = {
    id: randomUUID(),
    clientId: input.clientId,
    userId: input.userId,
    scopes: input.scopes,
    createdAt: input.now,
    expiresAt: new Date(input.now.getTime() + input.lifetimeSeconds * 1000),
    revokedAt: null,
    revokedReason: null,
  };
  await insertGrant(db, grant);
  return grant;
}

/** The audit log speaks the API's snake_case names. */
function auditDetails(selector: GrantSelector): Record<string, string> {
  if ('grantId' in selector) return { grant_id: selector.grantId };
  if ('userId' in selector) return { user_id: selector.userId };
  return { client_id: selector.clientId };
}

export type RevocationReason = 'refresh_token_reuse' | 'rfc7009' | 'admin' | 'cli' | 'user_disabled' | 'password_changed' | 'user_deleted';

/**
 * Ends grants (every refresh token of the family, and every access token carrying its `sid`) and
 * records who did it, atomically. Given the database (not a caller's transaction) it commits on its
 * own, so a caller that fails afterwards cannot roll it back.
 */
export async function revokeGrantsAndAudit(
  db: Queryable,
  selector: GrantSelector,
  audit: { actor: Actor; reason: RevocationReason; now: Date },
): Promise<number> {
  return db.transaction(async (tx) => {
    const revoked = await revokeGrants(tx, selector, audit.now, audit.reason);
    // A client's tokens without a grant (client_credentials) end by its watermark.
    if ('clientId' in selector) await endClientTokensIssuedUpTo(tx, selector.clientId, audit.now);
    await recordAudit(tx, {
      at: audit.now,
      actor: audit.actor,
      action: 'grants.revoke',
      details: { ...auditDetails(selector), reason: audit.reason },
      count: revoked,
    });
    return revoked;
  });
}

/**
 * Puts one access token (by jti) on the deny list until `expiresAt` and records who did it,
 * atomically. Returns whether it was newly revoked.
 */
export async function revokeAccessTokenAndAudit(
  db: Queryable,
  token: { jti: string; expiresAt: Date },
  audit: { actor: Actor; reason: RevocationReason; now: Date },
): Promise<boolean> {
  return db.transaction(async (tx) => {
    const revoked = await revokeAccessToken(tx, token.jti, token.expiresAt);
    await recordAudit(tx, { at: audit.now, actor: audit.actor, action: 'access_token.revoke', details: { jti: token.jti, reason: audit.reason }, count: revoked ? 1 : 0 });
    return revoked;
  });
}
