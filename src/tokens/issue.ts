import type { KeyService } from '../keys/key-service.js';
import type { Clock } from '../lib/clock.js';
import { formatScope } from '../lib/scope.js';
import type { Queryable } from '../store/database.js';
import type { Client } from '../store/clients-repository.js';
import type { Grant } from '../store/grants-repository.js';
import { insertRefreshToken, rotateRefreshToken } from '../store/refresh-tokens-repository.js';
import type { User } from '../store/users-repository.js';
import { signAccessToken } from './access-token.js';
import { generateRefreshToken, hashRefreshToken, successorRefreshToken } from './refresh-token.js';

/** The RFC 6749 §5.1 token response. */
export interface TokenResponse {
  access_token: string;
  token_type: 'Bearer';
  expires_in: number;
  refresh_token?: string;
  scope: string;
}

export interface IssueContext {
  issuer: string;
  accessTokenTtl: number;
  refreshTokenIdleTtl: number;
  refreshTokenSecret: Buffer;
  keys: KeyService;
  clock: Clock;
}

export interface IssueRequest {
  client: Client;
  user?: User | undefined;
  /** Present for user grants: a refresh token is issued when the client may refresh. */
  grant?: Grant | undefined;
  /** The scope of this access token (may be narrower than the grant's). */
  scopes: string[];
  /** The refresh token being rotated: its successor is derived from it. */
  parentRefreshToken?: string | undefined;
  /** Return this already-stored refresh token again instead of storing a new one (reuse grace). */
  existingRefreshToken?: string | undefined;
  /**
   * With parentRefreshToken: mark the parent used at this time and store its successor in one
   * statement; RefreshTokenAlreadyUsed when the parent was used meanwhile (reuse or a lost race).
   */
  rotatedAt?: Date | undefined;
}

/** The parent of a rotation had been used already: nothing was stored. */
export class RefreshTokenAlreadyUsed extends Error {}

/**
 * Signs the access token and, for a grant, stores the next refresh token in `db` — the caller's
 * transaction, so nothing is returned that was not committed with it.
 */
export async function issueTokens(context: IssueContext, db: Queryable, request: IssueRequest): Promise<TokenResponse> {
  const now = context.clock.now();
  const { client, user, grant } = request;
  const scope = formatScope(request.scopes);
  const { token } = await signAccessToken(context.keys.signingKey(), {
    issuer: context.issuer,
    subject: user ? user.id : client.id,
    audience: client.audience ?? context.issuer,
    clientId: client.id,
    scope,
    grantId: grant?.id,
    user,
    now,
    ttlSeconds: context.accessTokenTtl,
  });
  const response: TokenResponse = { access_token: token, token_type: 'Bearer', expires_in: context.accessTokenTtl, scope };
  if (request.existingRefreshToken) {
    response.refresh_token = request.existingRefreshToken;
  } else if (grant && client.grantTypes.includes('refresh_token')) {
    const parent = request.parentRefreshToken;
    const refreshToken = parent ? successorRefreshToken(context.refreshTokenSecret, parent) : generateRefreshToken();
    const idleExpiry = now.getTime() + context.refreshTokenIdleTtl * 1000;
    const successor = {
      tokenHash: hashRefreshToken(refreshToken),
      grantId: grant.id,
      createdAt: now,
      expiresAt: new Date(Math.min(idleExpiry, grant.expiresAt.getTime())),
    };
    if (parent && request.rotatedAt) {
      if (!(await rotateRefreshToken(db, hashRefreshToken(parent), request.rotatedAt, successor))) throw new RefreshTokenAlreadyUsed();
    } else {
      await insertRefreshToken(db, { ...successor, parentHash: parent ? hashRefreshToken(parent) : null, usedAt: null });
    }
    response.refresh_token = refreshToken;
  } else if (request.rotatedAt) {
    throw new Error('issueTokens: rotatedAt needs a grant whose client may refresh, and parentRefreshToken');
  }
  return response;
}
