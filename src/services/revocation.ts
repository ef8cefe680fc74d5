import type { Config } from '../config.js';
import type { Clock } from '../lib/clock.js';
import type { Database } from '../store/database.js';
import type { ClientAuthentication } from './client-authentication.js';
import { findUserByUsername } from '../store/users-repository.js';
import { revokeAccessTokenAndAudit, revokeGrantsAndAudit, type RevocationReason } from './grants.js';
import { canonicalUuid, isUuid } from '../lib/uuid.js';
import { addSeconds } from '../lib/clock.js';
import type { Actor } from './actor.js';
import { normalizeUsername } from './users.js';

/** Exactly one of these names what to revoke (admin API and CLI). */
export type RevocationTarget = { username: string } | { userId: string } | { clientId: string } | { grantId: string } | { jti: string };

/**
 * Revokes grants (sessions) by user, client or grant id, or one access token by jti. Returns how
 * many grants were newly revoked; for a jti, 1 if it was newly put on the deny list, else 0.
 */
export async function revokeTarget(
  deps: { db: Database; clock: Clock; config: Pick<Config, 'accessTokenTtl'>; clientAuthentication: Pick<ClientAuthentication, 'forget'> },
  target: RevocationTarget,
  audit: { actor: Actor; reason: RevocationReason },
): Promise<number> {
  const now = deps.clock.now();
  if ('jti' in target) {
    if (!isUuid(target.jti)) return 0;
    // Access tokens are not stored; the deny-list entry lives as long as any token could.
    const expiresAt = addSeconds(now, deps.config.accessTokenTtl);
    return (await revokeAccessTokenAndAudit(deps.db, { jti: canonicalUuid(target.jti), expiresAt }, { ...audit, now })) ? 1 : 0;
  }
  if ('username' in target) {
    const user = await findUserByUsername(deps.db, normalizeUsername(target.username));
    if (!user) return 0;
    return revokeGrantsAndAudit(deps.db, { userId: user.id }, { ...audit, now });
  }
  if ('clientId' in target) {
    // This instance's next token for the client must see the revocation (a fresh status list block).
    deps.clientAuthentication.forget();
    try {
      return await revokeGrantsAndAudit(deps.db, target, { ...audit, now });
    } finally {
      deps.clientAuthentication.forget();
    }
  }
  // Ids in lower case, as tokens and lists carry them: the audit log is searched by them.
  const selector = 'userId' in target ? { userId: canonicalUuid(target.userId) } : { grantId: canonicalUuid(target.grantId) };
  return revokeGrantsAndAudit(deps.db, selector, { ...audit, now });
}
