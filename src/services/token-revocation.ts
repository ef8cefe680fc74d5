import type { Deps } from '../deps.js';
import type { Client } from '../store/clients-repository.js';
import { findRefreshTokenWithGrant } from '../store/refresh-tokens-repository.js';
import { hashRefreshToken } from '../tokens/refresh-token.js';
import { revokeAccessTokenAndAudit, revokeGrantsAndAudit } from './grants.js';
import { verifyAccessToken } from './introspection.js';

/**
 * RFC 7009 for a client's own tokens. A refresh token ends its whole grant; an access token goes on
 * the deny list until its exp. Tokens of other clients, unknown or already dead tokens: no effect.
 * Returns whether anything was revoked (the endpoint answers 200 either way).
 */
export async function revokeClientToken(deps: Deps, client: Client, token: string, hint: string | undefined): Promise<boolean> {
  const tryRefresh = async (): Promise<boolean | undefined> => {
    if (token.length > 512) return undefined;
    const found = await findRefreshTokenWithGrant(deps.db, hashRefreshToken(token));
    if (!found) return undefined;
    if (found.grant.clientId !== client.id) return false;
    const revoked = await revokeGrantsAndAudit(
      deps.db,
      { grantId: found.grant.id },
      { actor: { type: 'client', clientId: client.id }, reason: 'rfc7009', now: deps.clock.now() },
    );
    return revoked > 0;
  };
  const tryAccess = async (): Promise<boolean | undefined> => {
    const claims = await verifyAccessToken(deps, token);
    if (!claims) return undefined;
    if (claims.client_id !== client.id) return false;
    return revokeAccessTokenAndAudit(
      deps.db,
      { jti: claims.jti, expiresAt: new Date(claims.exp * 1000) },
      { actor: { type: 'client', clientId: client.id }, reason: 'rfc7009', now: deps.clock.now() },
    );
  };
  const order = hint === 'refresh_token' ? [tryRefresh, tryAccess] : [tryAccess, tryRefresh];
  for (const attempt of order) {
    const result = await attempt();
    if (result !== undefined) return result;
  }
  return false;
}
