import { v7 as uuidv7 } from 'uuid';
import type { ActiveSigningKey } from '../keys/key-service.js';
import { epochSeconds } from '../lib/clock.js';
import { signCompactRs256 } from '../lib/jws.js';
import { statusJti } from '../lib/status-jti.js';

/** Claims of an RFC 9068 access token, as Gatehouse issues them. */
export interface AccessTokenClaims {
  iss: string;
  sub: string;
  /** The issuer, the client's audience, or the RFC 8707 resource(s) it is for. */
  aud: string | string[];
  exp: number;
  iat: number;
  jti: string;
  client_id: string;
  scope: string;
  /** The grant (token family) this token came from; revoking the grant revokes the token. */
  sid?: string;
  username?: string;
  email?: string;
  name?: string;
  /** RFC 9449 §6.1: the token is bound to the DPoP key with this RFC 7638 thumbprint. */
  cnf?: { jkt: string };
  /** Token Status List (draft-ietf-oauth-status-list): the bit that reads 1 once the token is revoked. */
  status?: { status_list: { idx: number; uri: string } };
}

export interface AccessTokenInput {
  issuer: string;
  subject: string;
  audience: string | string[];
  clientId: string;
  scope: string;
  grantId?: string | undefined;
  user?: { username: string; email: string | null; name: string | null } | undefined;
  now: Date;
  ttlSeconds: number;
  /** Bind the token to this DPoP key (RFC 7638 thumbprint). */
  dpopJkt?: string | undefined;
  /** The token's status list entry; its jti then names it too (lib/status-jti.ts). */
  status?: { listId: number; idx: number; uri: string } | undefined;
}

export async function signAccessToken(key: ActiveSigningKey, input: AccessTokenInput): Promise<{ token: string; claims: AccessTokenClaims }> {
  const iat = epochSeconds(input.now);
  const claims: AccessTokenClaims = {
    iss: input.issuer,
    sub: input.subject,
    aud: input.audience,
    exp: iat + input.ttlSeconds,
    iat,
    // UUIDv7: the jti carries the issue time to the millisecond (see issuedAt below).
    jti: (input.status && statusJti(input.now.getTime(), input.status)) ?? uuidv7({ msecs: input.now.getTime() }),
    client_id: input.clientId,
    scope: input.scope,
  };
  if (input.grantId) claims.sid = input.grantId;
  if (input.status) claims.status = { status_list: { idx: input.status.idx, uri: input.status.uri } };
  if (input.user) {
    claims.username = input.user.username;
    if (input.user.email) claims.email = input.user.email;
    if (input.user.name) claims.name = input.user.name;
  }
  if (input.dpopJkt) claims.cnf = { jkt: input.dpopJkt };
  const token = await signCompactRs256(key.privateKey, { alg: 'RS256', typ: 'at+jwt', kid: key.kid }, claims);
  return { token, claims };
}

const UUID_V7 = /^([0-9a-f]{8})-([0-9a-f]{4})-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/i;

/**
 * When the token was issued, to the millisecond: revocation by client ends the tokens issued up to
 * a moment, and `iat` (whole seconds) cannot tell a token issued just before a revocation from one
 * issued just after. Our jti is a UUIDv7 whose first 48 bits are that time; a jti of another form
 * (tokens issued before this change) counts from the start of its `iat` second, which errs toward
 * treating it as revoked.
 */
export function issuedAt(claims: Pick<AccessTokenClaims, 'jti' | 'iat'>): Date {
  const match = UUID_V7.exec(claims.jti);
  if (match) {
    const millis = Number.parseInt(`${match[1]}${match[2]}`, 16);
    // A jti whose time disagrees with iat was not made by this code: fall back to iat.
    if (Math.floor(millis / 1000) === claims.iat) return new Date(millis);
  }
  return new Date(claims.iat * 1000);
}
