import { InvalidGrant } from '../errors.js';
import { revokeGrantsAndAudit } from '../services/grants.js';
import { findRefreshTokenWithGrant, markRefreshTokenUsed } from '../store/refresh-tokens-repository.js';
import { findUserById } from '../store/users-repository.js';
import { hashRefreshToken } from '../tokens/refresh-token.js';
import { issueTokens } from '../tokens/issue.js';
import { issueContext, type GrantHandler } from './grant-handler.js';
import { grantScopes, requestedScopes } from './scope.js';

/** Thrown inside the transaction when the conditional UPDATE finds the token already used. */
class RefreshTokenReused extends Error {}

/**
 * RFC 6749 §6, with rotation: every use returns a new refresh token, and presenting a used one
 * (reuse, or the loser of a race) revokes the whole grant (RFC 9700 §4.14.2).
 */
export const refreshTokenGrant = {
  grantType: 'refresh_token',
  parameters: {
    type: 'object',
    required: ['refresh_token'],
    properties: {
      refresh_token: { type: 'string', minLength: 1, maxLength: 512 },
      scope: { type: 'string', maxLength: 2048 },
    },
  },
  async handle(deps, client, parameters) {
    const requested = requestedScopes(parameters.scope);
    const tokenHash = hashRefreshToken(parameters.refresh_token as string);
    const found = await findRefreshTokenWithGrant(deps.db, tokenHash);
    if (!found) throw new InvalidGrant('the refresh token is invalid');
    const { token, grant } = found;
    // Another client's token: refuse without touching it (RFC 6749 §10.4).
    if (grant.clientId !== client.id) throw new InvalidGrant('the refresh token was not issued to this client');
    if (grant.revokedAt) throw new InvalidGrant('the refresh token has been revoked');
    const now = deps.clock.now();
    const revokeForReuse = async (): Promise<never> => {
      await revokeGrantsAndAudit(deps.db, { grantId: grant.id }, { actor: `client:${client.id}`, reason: 'refresh_token_reuse', now });
      deps.logger.warn({ grantId: grant.id, clientId: client.id }, 'refresh token reuse: grant revoked');
      throw new InvalidGrant('the refresh token was already used; its grant has been revoked');
    };
    if (token.usedAt) return revokeForReuse();
    if (token.expiresAt <= now || grant.expiresAt <= now) throw new InvalidGrant('the refresh token has expired');
    const user = grant.userId ? await findUserById(deps.db, grant.userId) : undefined;
    if (!user || user.disabled) throw new InvalidGrant('the refresh token is no longer valid');
    // May narrow, never widen, and never exceed what client and user may have now (RFC 6749 §6).
    const scopes = grantScopes(requested, grant.scopes, client.scopes, user.scopes);
    try {
      return await deps.db.transaction(async (tx) => {
        if (!(await markRefreshTokenUsed(tx, tokenHash, now))) throw new RefreshTokenReused();
        return issueTokens(issueContext(deps), tx, { client, user, grant, scopes, parentHash: tokenHash });
      });
    } catch (error) {
      if (error instanceof RefreshTokenReused) return revokeForReuse();
      throw error;
    }
  },
} satisfies GrantHandler;
