import type { Deps } from '../deps.js';
import { epochSeconds } from '../lib/clock.js';
import { formatScope } from '../lib/scope.js';
import { issuedAt, type AccessTokenClaims } from '../tokens/access-token.js';
import { hashRefreshToken } from '../tokens/refresh-token.js';
import { findRefreshTokenWithGrantAndUser } from '../store/refresh-tokens-repository.js';

export type IntrospectionResponse =
  | { active: false }
  | {
      active: true;
      /** DPoP: the access token is bound to the key in `cnf` (RFC 9449 §6.2). */
      token_type: 'Bearer' | 'DPoP' | 'refresh_token';
      scope: string;
      client_id: string;
      sub: string;
      aud: string | string[];
      iss: string;
      exp: number;
      iat: number;
      jti?: string;
      username?: string;
      cnf?: { jkt: string };
    };

const INACTIVE = { active: false } as const;
const JWT_SHAPE = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;

/** Distinct foreign issuers logged at most (they come only from tokens our keys signed). */
const MAX_FOREIGN_ISSUERS_LOGGED = 100;

/**
 * A token our keys signed that names another issuer: instances sharing a database but configured
 * with different ISSUER values. Refused as any invalid token, and worth one warning per distinct `iss`.
 */
function noteForeignIssuer(deps: Pick<Deps, 'config' | 'logger' | 'foreignIssuersSeen'>, foreignIssuer: string): void {
  const iss = foreignIssuer.slice(0, 200);
  if (deps.foreignIssuersSeen.has(iss) || deps.foreignIssuersSeen.size >= MAX_FOREIGN_ISSUERS_LOGGED) return;
  deps.foreignIssuersSeen.add(iss);
  deps.logger.warn(
    { iss, issuer: deps.config.issuer },
    'refused a token signed by our keys but issued under another ISSUER: every instance on this database must have the same ISSUER',
  );
}

/**
 * An access token is live when its signature verifies with one of our published keys, it has not
 * expired, its jti is not on the deny list, and its grant (sid) — or, for client_credentials, its
 * client — still exists unrevoked. Returns its claims, or undefined.
 */
export async function verifyAccessToken(deps: Deps, token: string): Promise<AccessTokenClaims | undefined> {
  if (token.length > 8192 || !JWT_SHAPE.test(token)) return undefined;
  const check = await deps.accessTokens.check(token, deps.clock.now());
  if (!check.valid) {
    if (check.foreignIssuer !== undefined) noteForeignIssuer(deps, check.foreignIssuer);
    return undefined;
  }
  const claims = check.claims;
  const live = await deps.accessTokenStanding.isLive({
    jti: claims.jti,
    grantId: claims.sid,
    clientId: claims.client_id,
    issuedAt: issuedAt(claims),
    now: deps.clock.now(),
  });
  return live ? claims : undefined;
}

/** What a live refresh token says about its grant; undefined when it is not live. */
async function describeRefreshToken(deps: Deps, token: string): Promise<IntrospectionResponse | undefined> {
  if (token.length > 512) return undefined;
  // The token, its grant and its user in one prepared statement (the refresh grant's own lookup).
  const found = await findRefreshTokenWithGrantAndUser(deps.db, hashRefreshToken(token));
  if (!found) return undefined;
  const { token: refresh, grant, user } = found;
  const now = deps.clock.now();
  if (refresh.usedAt || grant.revokedAt || refresh.expiresAt <= now || grant.expiresAt <= now || !grant.userId) return undefined;
  if (!user || user.disabled) return undefined;
  return {
    active: true,
    token_type: 'refresh_token',
    scope: formatScope(grant.scopes),
    client_id: grant.clientId,
    sub: user.id,
    username: user.username,
    aud: deps.config.issuer,
    iss: deps.config.issuer,
    exp: epochSeconds(refresh.expiresAt),
    iat: epochSeconds(refresh.createdAt),
    ...(grant.dpopJkt ? { cnf: { jkt: grant.dpopJkt } } : {}),
  };
}

async function describeAccessToken(deps: Deps, token: string): Promise<IntrospectionResponse | undefined> {
  const claims = await verifyAccessToken(deps, token);
  if (!claims) return undefined;
  const response: IntrospectionResponse = {
    active: true,
    token_type: claims.cnf ? 'DPoP' : 'Bearer',
    scope: claims.scope,
    client_id: claims.client_id,
    sub: claims.sub,
    aud: claims.aud,
    iss: claims.iss,
    exp: claims.exp,
    iat: claims.iat,
    jti: claims.jti,
  };
  if (claims.username) response.username = claims.username;
  if (typeof claims.cnf?.jkt === 'string') response.cnf = { jkt: claims.cnf.jkt };
  return response;
}

/** RFC 7662 §2.2. The hint only decides which kind is tried first (§2.1). */
export async function introspectToken(deps: Deps, token: string, hint?: string): Promise<IntrospectionResponse> {
  const order = hint === 'refresh_token' ? [describeRefreshToken, describeAccessToken] : [describeAccessToken, describeRefreshToken];
  for (const describe of order) {
    const result = await describe(deps, token);
    if (result) return result;
  }
  return INACTIVE;
}
