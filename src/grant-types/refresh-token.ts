import type { Deps } from '../deps.js';
import { InvalidGrant } from '../errors.js';
import { findRefreshToken, findRefreshTokenWithUser, revokeGrantsAndAudit } from '../services/grants.js';
import type { Client } from '../store/clients-repository.js';
import type { Grant } from '../store/grants-repository.js';
import type { User } from '../store/users-repository.js';
import { issueTokens, RefreshTokenAlreadyUsed, type DpopBinding, type TokenResponse } from '../tokens/issue.js';
import { successorRefreshToken } from '../tokens/refresh-token.js';
import { defineGrantType, issueContext } from './grant-type-handler.js';
import { RESOURCE_PARAMETER, requestedResources, resourceScopeLimits } from './resources.js';
import { grantScopes, requestedScopes } from './scope.js';

/** What a refresh asks for: scopes and RFC 8707 resources (both may only narrow the grant's). */
interface RefreshRequest {
  scopes: string[];
  resources: readonly string[];
}

/**
 * Lifetimes, the user (found with the token), and the scope and resources this refresh may have;
 * throws the OAuth error otherwise.
 */
async function checkGrantStillValid(
  deps: Pick<Deps, 'db'>,
  client: Client,
  grant: Grant,
  user: User | undefined,
  tokenExpiresAt: Date,
  requested: RefreshRequest,
  now: Date,
): Promise<{ user: User; scopes: string[]; resources: string[] | undefined }> {
  if (tokenExpiresAt <= now || grant.expiresAt <= now) throw new InvalidGrant('the refresh token has expired');
  if (!user || user.disabled) throw new InvalidGrant('the refresh token is no longer valid');
  // RFC 8707 §2.2: a subset of the grant's resources narrows aud and scope for this token only.
  const resources = await requestedResources(deps, client, requested.resources, grant);
  // May narrow, never widen, and never exceed what client and user may have now (RFC 6749 §6).
  return {
    user,
    scopes: grantScopes(requested.scopes, grant.scopes, client.scopes, user.scopes, ...resourceScopeLimits(resources)),
    resources: resources?.uris,
  };
}

/**
 * RFC 9449 §5: the refresh tokens of a grant bound to a DPoP key are good only with a proof by that
 * key. Refused as invalid_grant (the token is not good for this request, as node-oidc-provider
 * answers), and the grant is left alone: the presenter may be a thief without the key.
 */
function assertDpopKeyOfGrant(grant: Grant, proof: { jkt: string } | undefined): void {
  if (grant.dpopJkt === null) return;
  if (!proof) throw new InvalidGrant('the refresh token is bound to a DPoP key: send a DPoP proof signed with that key');
  if (proof.jkt !== grant.dpopJkt) throw new InvalidGrant('the refresh token is bound to another DPoP key than the one of the proof');
}

/**
 * Reuse grace: the successor of `presented` is derived again (tokens/refresh-token.ts); if it is
 * still unused, the retry gets it back with a fresh access token. Undefined when it cannot be.
 */
async function reissueSuccessor(
  deps: Deps,
  client: Client,
  presented: string,
  requested: RefreshRequest,
  now: Date,
  binding: DpopBinding,
): Promise<TokenResponse | undefined> {
  const successor = successorRefreshToken(deps.refreshTokenSecret, presented);
  const found = await findRefreshTokenWithUser(deps.db, successor);
  if (!found || found.token.usedAt || found.grant.revokedAt) return undefined;
  const { user, scopes, resources } = await checkGrantStillValid(deps, client, found.grant, found.user, found.token.expiresAt, requested, now);
  return issueTokens(
    issueContext(deps),
    deps.db,
    { kind: 'reissue', client, user, grant: found.grant, scopes, resources, refreshToken: successor, status: found.token.status },
    binding,
  );
}

/**
 * RFC 6749 §6, with rotation: every use returns a new refresh token, and presenting a used one
 * (reuse, or the loser of a race) revokes the whole grant (RFC 9700 §4.14.2).
 */
export const refreshTokenGrant = defineGrantType({
  grantType: 'refresh_token',
  parameters: {
    type: 'object',
    required: ['refresh_token'],
    properties: {
      refresh_token: { type: 'string', minLength: 1, maxLength: 512 },
      scope: { type: 'string', maxLength: 2048 },
      ...RESOURCE_PARAMETER,
    },
  },
  async handle(deps, client, parameters, request) {
    const requested: RefreshRequest = { scopes: requestedScopes(parameters.scope), resources: request.resources };
    const presented = parameters.refresh_token;
    // Token, grant and user in one round trip; the rotation is the second.
    const found = await findRefreshTokenWithUser(deps.db, presented);
    if (!found) throw new InvalidGrant('the refresh token is invalid');
    const { token, grant } = found;
    // Another client's token: refuse without touching it (RFC 6749 §10.4).
    if (grant.clientId !== client.id) throw new InvalidGrant('the refresh token was not issued to this client');
    // A bound grant (public client, RFC 9449 §5) answers only a proof by its key, before anything
    // else: whoever lacks the key can neither use the token nor, by replaying it, end the grant.
    assertDpopKeyOfGrant(grant, request.dpop);
    const binding: DpopBinding = { dpopJkt: request.dpop?.jkt };
    if (grant.revokedAt) throw new InvalidGrant('the refresh token has been revoked');
    const now = deps.clock.now();

    /** A used token again: within REFRESH_REUSE_GRACE the same successor, otherwise the family ends. */
    const answerReuse = async (usedAt: Date | null): Promise<TokenResponse> => {
      const grace = deps.config.refreshReuseGrace;
      if (grace > 0 && usedAt && now.getTime() - usedAt.getTime() <= grace * 1000) {
        const retried = await reissueSuccessor(deps, client, presented, requested, now, binding);
        if (retried) return retried;
      }
      await revokeGrantsAndAudit(deps.db, { grantId: grant.id }, { actor: { type: 'client', clientId: client.id }, reason: 'refresh_token_reuse', now });
      deps.metrics.refreshReuseDetected.inc();
      deps.metrics.revocations.inc({ source: 'reuse' });
      deps.logger.warn({ grantId: grant.id, clientId: client.id }, 'refresh token reuse: grant revoked');
      throw new InvalidGrant('the refresh token was already used; its grant has been revoked');
    };

    // Nothing is stored (a rotation, or a revocation for reuse) before the one-time values are claimed.
    await request.replayChecked;
    if (token.usedAt) return answerReuse(token.usedAt);
    const { user, scopes, resources } = await checkGrantStillValid(deps, client, grant, found.user, token.expiresAt, requested, now);
    try {
      // One statement marks the token used (only if nobody has) and stores its successor.
      return await issueTokens(
        issueContext(deps),
        deps.db,
        { kind: 'rotation', client, user, grant, scopes, resources, parentRefreshToken: presented, rotatedAt: now },
        binding,
      );
    } catch (error) {
      if (!(error instanceof RefreshTokenAlreadyUsed)) throw error;
      // Lost a race: the winner has committed by now, so its used_at is visible.
      const winner = await findRefreshToken(deps.db, presented);
      return answerReuse(winner?.token.usedAt ?? null);
    }
  },
});
