import { KeyObject, sign as signBytes } from 'node:crypto';
import { SignJWT, generateKeyPair, type CryptoKey, type JWTPayload } from 'jose';
import { createAccessTokenVerifier } from '../../src/tokens/access-token-verification.js';

const ISSUER = 'https://as.example';
const now = new Date('2026-11-29T12:00:00Z');
const seconds = Math.floor(now.getTime() / 1000);
const claims = {
  iss: ISSUER,
  sub: 'u1',
  aud: 'api',
  client_id: 'app',
  scope: 'read',
  jti: '0190b3a0-0000-7000-8000-000000000000',
  iat: seconds - 10,
  exp: seconds + 300,
};

let signer: CryptoKey;
let other: CryptoKey;
const keys = new Map<string, KeyObject>();
beforeAll(async () => {
  const pair = await generateKeyPair('RS256', { extractable: true });
  signer = pair.privateKey;
  keys.set('k1', KeyObject.from(pair.publicKey));
  other = (await generateKeyPair('RS256')).privateKey;
});

/** The claims less one. */
const without = (claim: keyof typeof claims): JWTPayload => Object.fromEntries(Object.entries(claims).filter(([name]) => name !== claim));
const sign = (payload: JWTPayload, header: Record<string, unknown> = {}, key: CryptoKey = signer): Promise<string> =>
  new SignJWT(payload).setProtectedHeader({ alg: 'RS256', typ: 'at+jwt', kid: 'k1', ...header }).sign(key);
/** jose refuses to make a token with a crit it does not know: made by hand. */
const signByHand = (header: object, payload: object): string => {
  const input = `${Buffer.from(JSON.stringify(header)).toString('base64url')}.${Buffer.from(JSON.stringify(payload)).toString('base64url')}`;
  return `${input}.${signBytes('sha256', Buffer.from(input), KeyObject.from(signer)).toString('base64url')}`;
};
const verifier = (maxRemembered?: number) => createAccessTokenVerifier({ issuer: ISSUER, keys: { keyFor: (kid) => keys.get(kid) }, maxRemembered });

describe('our access tokens are checked as RFC 9068 §4 asks', () => {
  it('accepts a token we signed, with typ at+jwt or application/at+jwt', async () => {
    expect(await verifier().check(await sign(claims), now)).toEqual({ valid: true, claims });
    expect((await verifier().check(await sign(claims, { typ: 'application/AT+JWT' }), now)).valid).toBe(true);
    expect((await verifier().check(signByHand({ alg: 'RS256', typ: 'at+jwt', kid: 'k1' }, claims), now)).valid).toBe(true);
  });

  it.each<[string, () => Promise<string>]>([
    ['typ JWT', () => sign(claims, { typ: 'JWT' })],
    ['no kid', () => new SignJWT(claims).setProtectedHeader({ alg: 'RS256', typ: 'at+jwt' }).sign(signer)],
    ['an unknown kid', () => sign(claims, { kid: 'k2' })],
    ['crit', async () => signByHand({ alg: 'RS256', typ: 'at+jwt', kid: 'k1', crit: ['urn:x'], 'urn:x': 1 }, claims)],
    ['another key’s signature', () => sign(claims, {}, other)],
    ['expired', () => sign({ ...claims, exp: seconds })],
    ['not valid yet (nbf)', () => sign({ ...claims, nbf: seconds + 1 })],
    ['no jti', () => sign(without('jti'))],
    ['a numeric client_id', () => sign({ ...claims, client_id: 7 })],
    ['no exp', () => sign(without('exp'))],
    ['a string iat', () => sign({ ...claims, iat: String(claims.iat) as unknown as number })],
  ])('refuses a token with %s', async (_name, make) => {
    expect((await verifier().check(await make(), now)).valid).toBe(false);
  });

  it('refuses alg none and a changed payload', async () => {
    const token = await sign(claims);
    const [header, , signature] = token.split('.');
    const none = `${Buffer.from(JSON.stringify({ alg: 'none', typ: 'at+jwt', kid: 'k1' })).toString('base64url')}.${token.split('.')[1]}.`;
    const changed = `${header}.${Buffer.from(JSON.stringify({ ...claims, scope: 'admin' })).toString('base64url')}.${signature}`;
    expect((await verifier().check(none, now)).valid).toBe(false);
    expect((await verifier().check(changed, now)).valid).toBe(false);
  });

  it('names the issuer of a token we signed under another ISSUER', async () => {
    expect(await verifier().check(await sign({ ...claims, iss: 'https://elsewhere.example' }), now)).toEqual({
      valid: false,
      foreignIssuer: 'https://elsewhere.example',
    });
  });

  it('remembers a verified token until it expires or its key goes, within a bound', async () => {
    const check = verifier(2);
    const token = await sign(claims);
    expect((await check.check(token, now)).valid).toBe(true);
    expect((await check.check(token, new Date(claims.exp * 1000))).valid).toBe(false);
    expect((await check.check(token, now)).valid).toBe(true);
    const kept = keys.get('k1')!;
    keys.delete('k1');
    expect((await check.check(token, now)).valid).toBe(false);
    keys.set('k1', kept);
    // A bound of two: a third token pushes the oldest out, and all three still verify.
    const tokens = [token, await sign({ ...claims, jti: 'b' }), await sign({ ...claims, jti: 'c' })];
    for (const one of [...tokens, ...tokens]) expect((await check.check(one, now)).valid).toBe(true);
  });
});
