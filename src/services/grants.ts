import { randomUUID } from 'node:crypto';
import { addSeconds } from '../lib/clock.js';
import type { Queryable } from '../store/database.js';
import { announceClientChange } from '../store/client-change-notifications.js';
import { endClientTokensIssuedUpTo } from '../store/clients-repository.js';
import {
  insertGrant,
  listActiveGrants,
  revokeGrants,
  type ActiveGrant,
  type ActiveGrantsFilter,
  type Grant,
  type GrantSelector,
} from '../store/grants-repository.js';
import { findRefreshTokenWithGrant, findRefreshTokenWithGrantAndUser, type RefreshToken } from '../store/refresh-tokens-repository.js';
import type { User } from '../store/users-repository.js';
import { hashRefreshToken } from '../tokens/refresh-token.js';
import { collectAllPages } from './paging.js';
import { revokeAccessToken } from '../store/revoked-access-tokens-repository.js';
import type { Actor } from './actor.js';
import { recordAudit } from './audit.js';
import { flipRevokedAccessToken, flipRevokedGrantTokens, type StatusEntry } from './status-lists.js';

/** Opens a token family for a user's password grant. */
export async function startGrant(
  db: Queryable,
  input: {
    clientId: string;
    userId: string;
    scopes: string[];
    resources?: string[] | undefined;
    now: Date;
    lifetimeSeconds: number;
    status?: StatusEntry | undefined;
    dpopJkt?: string | undefined;
  },
): Promise<Grant> {
  const grant: Grant = {
    id: randomUUID(),
    clientId: input.clientId,
    userId: input.userId,
    scopes: input.scopes,
    resources: input.resources ?? [],
    createdAt: input.now,
    expiresAt: addSeconds(input.now, input.lifetimeSeconds),
    revokedAt: null,
    revokedReason: null,
    dpopJkt: input.dpopJkt ?? null,
    status: input.status,
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
    // The status bits first, while the grants still say which tokens they issued.
    await flipRevokedGrantTokens(tx, selector, audit.now);
    const revoked = await revokeGrants(tx, selector, audit.now, audit.reason);
    // A client's tokens without a grant (client_credentials) end by its watermark.
    if ('clientId' in selector) {
      await endClientTokensIssuedUpTo(tx, selector.clientId, audit.now);
      // Every instance then looks the client up afresh, watermark included (services/client-changes.ts).
      await announceClientChange(tx);
    }
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
    await flipRevokedAccessToken(tx, token.jti);
    await recordAudit(tx, {
      at: audit.now,
      actor: audit.actor,
      action: 'access_token.revoke',
      details: { jti: token.jti, reason: audit.reason },
      count: revoked ? 1 : 0,
    });
    return revoked;
  });
}

/** A refresh token as presented, with its grant; undefined when no such token was ever issued. */
export async function findRefreshToken(db: Queryable, presented: string): Promise<{ token: RefreshToken; grant: Grant } | undefined> {
  return findRefreshTokenWithGrant(db, hashRefreshToken(presented));
}

/** A refresh token as presented, with its grant and the grant's user, in one round trip. */
export async function findRefreshTokenWithUser(
  db: Queryable,
  presented: string,
): Promise<{ token: RefreshToken; grant: Grant; user: User | undefined } | undefined> {
  return findRefreshTokenWithGrantAndUser(db, hashRefreshToken(presented));
}

/** Live (unrevoked, unexpired) grants, newest first, keyset-paginated. */
export function listLiveGrants(db: Queryable, filter: ActiveGrantsFilter): Promise<ActiveGrant[]> {
  return listActiveGrants(db, filter);
}

/** Every live grant, newest first. */
export function listEveryLiveGrant(db: Queryable, filter: { username?: string | undefined; clientId?: string | undefined; now: Date }): Promise<ActiveGrant[]> {
  return collectAllPages(
    (before: { createdAt: Date; id: string } | undefined, limit) => listActiveGrants(db, { ...filter, before, limit }),
    (last) => ({ createdAt: last.createdAt, id: last.id }),
  );
}
