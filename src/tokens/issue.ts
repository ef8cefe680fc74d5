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
  /** DPoP when the access token is bound to a DPoP key (RFC 9449 §5). */
  token_type: 'Bearer' | 'DPoP';
  expires_in: number;
  refresh_token?: string;
  scope: string;
}

/** What issuing needs from the composition root. */
export interface IssueContext {
  issuer: string;
  accessTokenTtl: number;
  refreshTokenIdleTtl: number;
  refreshTokenSecret: Buffer;
  keys: Pick<KeyService, 'signingKey'>;
  clock: Clock;
}

/** A user's tokens from a grant (token family). */
interface UserTokens {
  client: Client;
  user: User;
  grant: Grant;
  /** The scope of this access token (may be narrower than the grant's). */
  scopes: string[];
}

/** What to issue; each kind stores a different thing, so each is its own shape. */
export type IssueRequest =
  /** client_credentials: an access token for the client itself; nothing is stored. */
  | { kind: 'client'; client: Client; scopes: string[] }
  /** The first tokens of a new grant: a new refresh token when the client may refresh. */
  | ({ kind: 'new-grant' } & UserTokens)
  /**
   * A refresh: marks `parentRefreshToken` used at `rotatedAt` and stores its successor in one
   * statement; RefreshTokenAlreadyUsed when the parent was used meanwhile (reuse or a lost race).
   */
  | ({ kind: 'rotation'; parentRefreshToken: string; rotatedAt: Date } & UserTokens)
  /** Reuse grace: this already-stored, unused refresh token again, with a fresh access token. */
  | ({ kind: 'reissue'; refreshToken: string } & UserTokens);

/** The DPoP key the access token is bound to (`cnf.jkt`), when the request carried a valid proof. */
export interface DpopBinding {
  dpopJkt?: string | undefined;
}

/** The parent of a rotation had been used already: nothing was stored. */
export class RefreshTokenAlreadyUsed extends Error {}

/**
 * Signs the access token and stores what the request kind needs in `db`, the caller's transaction
 * where there is one, so nothing is returned that was not committed with it.
 */
export async function issueTokens(context: IssueContext, db: Queryable, request: IssueRequest, binding: DpopBinding = {}): Promise<TokenResponse> {
  const now = context.clock.now();
  const { client } = request;
  const scope = formatScope(request.scopes);
  const user = request.kind === 'client' ? undefined : request.user;
  const { token } = await signAccessToken(context.keys.signingKey(), {
    issuer: context.issuer,
    subject: user ? user.id : client.id,
    audience: client.audience ?? context.issuer,
    clientId: client.id,
    scope,
    grantId: request.kind === 'client' ? undefined : request.grant.id,
    user,
    now,
    ttlSeconds: context.accessTokenTtl,
    dpopJkt: binding.dpopJkt,
  });
  const response: TokenResponse = { access_token: token, token_type: binding.dpopJkt ? 'DPoP' : 'Bearer', expires_in: context.accessTokenTtl, scope };
  if (request.kind === 'client') return response;
  if (request.kind === 'reissue') return { ...response, refresh_token: request.refreshToken };
  if (!client.grantTypes.includes('refresh_token')) {
    if (request.kind === 'rotation') throw new Error('issueTokens: a rotation needs a client that may refresh');
    return response;
  }
  const { grant } = request;
  const refreshToken = request.kind === 'rotation' ? successorRefreshToken(context.refreshTokenSecret, request.parentRefreshToken) : generateRefreshToken();
  const successor = {
    tokenHash: hashRefreshToken(refreshToken),
    grantId: grant.id,
    createdAt: now,
    // Idle lifetime, never beyond the grant's absolute one.
    expiresAt: new Date(Math.min(now.getTime() + context.refreshTokenIdleTtl * 1000, grant.expiresAt.getTime())),
  };
  if (request.kind === 'rotation') {
    if (!(await rotateRefreshToken(db, hashRefreshToken(request.parentRefreshToken), request.rotatedAt, successor))) throw new RefreshTokenAlreadyUsed();
  } else {
    await insertRefreshToken(db, { ...successor, parentHash: null, usedAt: null });
  }
  return { ...response, refresh_token: refreshToken };
}
