import { randomUUID } from 'node:crypto';
import { SignJWT } from 'jose';
import type { ActiveSigningKey } from '../keys/key-service.js';
import { epochSeconds } from '../lib/clock.js';

/** Claims of an RFC 9068 access token, as Gatehouse issues them. */
export interface AccessTokenClaims {
  iss: string;
  sub: string;
  aud: string;
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
}

export interface AccessTokenInput {
  issuer: string;
  subject: string;
  audience: string;
  clientId: string;
  scope: string;
  grantId?: string | undefined;
  user?: { username: string; email: string | null; name: string | null } | undefined;
  now: Date;
  ttlSeconds: number;
}

export async function signAccessToken(key: ActiveSigningKey, input: AccessTokenInput): Promise<{ token: string; claims: AccessTokenClaims }> {
  const iat = epochSeconds(input.now);
  const claims: AccessTokenClaims = {
    iss: input.issuer,
    sub: input.subject,
    aud: input.audience,
    exp: iat + input.ttlSeconds,
    iat,
    jti: randomUUID(),
    client_id: input.clientId,
    scope: input.scope,
  };
  if (input.grantId) claims.sid = input.grantId;
  if (input.user) {
    claims.username = input.user.username;
    if (input.user.email) claims.email = input.user.email;
    if (input.user.name) claims.name = input.user.name;
  }
  const token = await new SignJWT({ ...claims })
    .setProtectedHeader({ alg: 'RS256', typ: 'at+jwt', kid: key.kid })
    .sign(key.privateKey);
  return { token, claims };
}
