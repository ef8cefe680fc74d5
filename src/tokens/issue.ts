import type { KeyService } from '../keys/key-service.js';
import type { Clock } from '../lib/clock.js';
import { formatScope } from '../lib/scope.js';
import type { Queryable } from '../store/database.js';
import type { Client } from '../store/clients-repository.js';
import type { Grant } from '../store/grants-repository.js';
import { insertRefreshToken, rotateRefreshToken } from '../store/refresh-tokens-repository.js';
import type { User } from '../store/users-repository.js';
import { statusListUri, type StatusEntry, type StatusListAllocator } from '../services/status-lists.js';
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
  /** Hands out each access token's status list index. */
  statusLists: Pick<StatusListAllocator, 'allocate'>;
}

/** A user's tokens from a grant (token family). */
interface UserTokens {
  client: Client;
  user: User;
  grant: Grant;
  /** The scope of this access token (may be narrower than the grant's). */
  scopes: string[];
  /** RFC 8707 resources this access token is for (its aud); none: the client's audience, or the issuer. */
  resources?: readonly string[] | undefined;
}

/** What to issue; each kind stores a different thing, so each is its own shape. */
export type IssueRequest =
  /** client_credentials: an access token for the client itself; nothing is stored. */
  | { kind: 'client'; client: Client; scopes: string[]; resources?: readonly string[] | undefined }
  /** The first tokens of a new grant: a new refresh token when the client may refresh. */
  | ({ kind: 'new-grant' } & UserTokens)
  /**
   * A refresh: marks `parentRefreshToken` used at `rotatedAt` and stores its successor in one
   * statement; RefreshTokenAlreadyUsed when the parent was used meanwhile (reuse or a lost race).
   */
  | ({ kind: 'rotation'; parentRefreshToken: string; rotatedAt: Date } & UserTokens)
  /** Reuse grace: this already-stored, unused refresh token again, with a fresh access token. */
  | ({ kind: 'reissue'; refreshToken: string; status: StatusEntry | undefined } & UserTokens);

/**
 * The access token's status list entry. A new grant's first token has the one recorded on the grant
 * (services/grants.ts startGrant); a rotation's is recorded on the successor refresh token; a
 * reissue repeats the token issued with the refresh token it returns again, and shares its entry.
 */
async function statusEntryFor(context: IssueContext, request: IssueRequest): Promise<(StatusEntry & { uri: string }) | undefined> {
  const recorded = request.kind === 'new-grant' ? request.grant.status : request.kind === 'reissue' ? request.status : undefined;
  const entry = recorded ?? (await context.statusLists.allocate(request.client));
  return entry && { listId: entry.listId, idx: entry.idx, uri: statusListUri(context.issuer, entry.listId) };
}

/** The DPoP key the access token is bound to (`cnf.jkt`), when the request carried a valid proof. */
export interface DpopBinding {
  dpopJkt?: string | undefined;
}

/** RFC 8707 §2: the resource the token is for, or the list of them; without any, the fallback. */
function tokenAudience(resources: readonly string[] | undefined, fallback: string): string | string[] {
  if (!resources || resources.length === 0) return fallback;
  return resources.length === 1 ? (resources[0] as string) : [...resources];
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
  const status = await statusEntryFor(context, request);
  const { token } = await signAccessToken(context.keys.signingKey(), {
    issuer: context.issuer,
    subject: user ? user.id : client.id,
    audience: tokenAudience(request.resources, client.audience ?? context.issuer),
    clientId: client.id,
    scope,
    grantId: request.kind === 'client' ? undefined : request.grant.id,
    user,
    now,
    ttlSeconds: context.accessTokenTtl,
    dpopJkt: binding.dpopJkt,
    status,
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
    if (!(await rotateRefreshToken(db, hashRefreshToken(request.parentRefreshToken), request.rotatedAt, { ...successor, status })))
      throw new RefreshTokenAlreadyUsed();
  } else {
    await insertRefreshToken(db, { ...successor, parentHash: null, usedAt: null });
  }
  return { ...response, refresh_token: refreshToken };
}
