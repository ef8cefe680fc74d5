import { createHash, generateKeyPairSync, randomUUID } from 'node:crypto';
import { calculateJwkThumbprint, exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK } from 'jose';
import { createDpopKeyCache } from '../../src/dpop/key-cache.js';
import { createDpopNonces } from '../../src/dpop/nonce.js';
import { accessTokenHash, dpopReplayKey, verifyDpopProof, type DpopExpectations } from '../../src/dpop/verify-proof.js';
import { InvalidDpopProof, UseDpopNonce } from '../../src/errors.js';
import { TestClock } from '../helpers/clock.js';
import { handBuiltJws, signedEs256 } from '../helpers/jws.js';

const NOW = new Date('2026-11-29T10:00:00Z');
const NOW_SECONDS = NOW.getTime() / 1000;
const TOKEN_ENDPOINT = 'https://as.example/token';
const EXPECT: DpopExpectations = { method: 'POST', url: TOKEN_ENDPOINT };

interface TestKey {
  alg: string;
  privateKey: CryptoKey;
  publicJwk: JWK;
  privateJwk: JWK;
}

async function testKey(alg: string, options: { modulusLength?: number; crv?: string } = {}): Promise<TestKey> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true, ...options });
  return { alg, privateKey, publicJwk: await exportJWK(publicKey), privateJwk: await exportJWK(privateKey) };
}

const SMALL_RSA_JWK = generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey.export({ format: 'jwk' });

const keys: Record<string, TestKey> = {};
beforeAll(async () => {
  for (const alg of ['ES256', 'ES384', 'ES512', 'RS256', 'RS512', 'PS256', 'PS384', 'EdDSA']) keys[alg] = await testKey(alg);
  keys.Ed25519 = { ...(keys.EdDSA as TestKey), alg: 'Ed25519' };
  keys.P384 = await testKey('ES384');
});
const key = (name: string): TestKey => keys[name] as TestKey;

function claims(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  const base: Record<string, unknown> = { jti: randomUUID(), htm: 'POST', htu: TOKEN_ENDPOINT, iat: NOW_SECONDS };
  for (const [name, value] of Object.entries(overrides)) {
    if (value === undefined) delete base[name];
    else base[name] = value;
  }
  return base;
}

/** A proof as a client makes one: SignJWT with typ dpop+jwt and the public key in jwk. */
async function proof(
  signer: TestKey = key('ES256'),
  claimOverrides: Record<string, unknown> = {},
  headerOverrides: Record<string, unknown> = {},
): Promise<string> {
  return new SignJWT(claims(claimOverrides))
    .setProtectedHeader({ alg: signer.alg, typ: 'dpop+jwt', jwk: signer.publicJwk, ...headerOverrides })
    .sign(signer.privateKey);
}

const verify = (value: string | readonly string[] | undefined, expectations: DpopExpectations = EXPECT, now: Date = NOW) =>
  verifyDpopProof(value, expectations, { now });

async function rejection(value: string | readonly string[] | undefined, expectations: DpopExpectations = EXPECT): Promise<InvalidDpopProof | UseDpopNonce> {
  try {
    await verify(value, expectations);
  } catch (error) {
    if (error instanceof InvalidDpopProof || error instanceof UseDpopNonce) return error;
    throw error;
  }
  throw new Error('the proof was accepted');
}

describe('a well-formed DPoP proof is accepted and yields what a bound token needs', () => {
  it.each(['ES256', 'ES384', 'ES512', 'RS256', 'RS512', 'PS256', 'PS384', 'EdDSA', 'Ed25519'])('signed with %s', async (alg) => {
    const signer = key(alg);
    const jti = randomUUID();
    const result = await verify(await proof(signer, { jti }));
    expect(result.jkt).toBe(await calculateJwkThumbprint(signer.publicJwk, 'sha256'));
    expect(result.jti).toBe(jti);
    expect(result.iat).toBe(NOW_SECONDS);
    expect(result.acceptedUntil).toEqual(new Date((NOW_SECONDS + 60) * 1000));
    expect(result).not.toHaveProperty('nonce');
    for (const member of ['d', 'p', 'q', 'dp', 'dq', 'qi']) expect(result.publicJwk).not.toHaveProperty(member);
    expect(await calculateJwkThumbprint(result.publicJwk, 'sha256')).toBe(result.jkt);
  });

  it.each([
    ['with a query and a fragment', `${TOKEN_ENDPOINT}?grant_type=client_credentials#x`],
    ['with scheme and host in capitals and the default port', 'HTTPS://AS.Example:443/token'],
    ['with a percent-encoded unreserved character', 'https://as.example/%74oken'],
    ['with a dot segment', 'https://as.example/oauth/../token'],
  ])('htu %s', async (_name, htu) => {
    await expect(verify(await proof(key('ES256'), { htu }))).resolves.toHaveProperty('jti');
  });

  it('compares htu with the request URL stripped of its own query and fragment', async () => {
    await expect(verify(await proof(), { method: 'POST', url: `${TOKEN_ENDPOINT}?a=b` })).resolves.toHaveProperty('jti');
  });

  it.each([
    ['59 seconds old', -59],
    ['4 seconds ahead of the server clock', 4],
  ])('iat %s', async (_name, offset) => {
    await expect(verify(await proof(key('ES256'), { iat: NOW_SECONDS + offset }))).resolves.toHaveProperty('jti');
  });

  it('takes the single value of a header given as a one-element list', async () => {
    await expect(verify([await proof()])).resolves.toHaveProperty('jti');
  });

  it('checks ath against the access token sent with the proof', async () => {
    const accessToken = 'eyJhbGciOiJSUzI1NiJ9.e30.c2lnbmF0dXJl';
    const expected = createHash('sha256').update(accessToken).digest('base64url');
    expect(accessTokenHash(accessToken)).toBe(expected);
    await expect(verify(await proof(key('ES256'), { ath: expected }), { ...EXPECT, accessToken })).resolves.toHaveProperty('jti');
  });

  it('returns the nonce when one is required and the proof carries a current one', async () => {
    const nonces = createDpopNonces({ secret: Buffer.alloc(32, 7), clock: new TestClock(NOW) });
    const nonce = nonces.current();
    const result = await verify(await proof(key('ES256'), { nonce }), { ...EXPECT, requiredNonce: nonces });
    expect(result.nonce).toBe(nonce);
  });

  it('ignores a nonce claim when no nonce is required', async () => {
    const result = await verify(await proof(key('ES256'), { nonce: 'whatever-the-client-remembered' }));
    expect(result).not.toHaveProperty('nonce');
  });

  it('gives the same answers with a key cache, and never mistakes one key for another', async () => {
    const keyCache = createDpopKeyCache({ maxEntries: 2 });
    for (const name of ['ES256', 'RS256', 'EdDSA', 'ES256', 'PS256', 'ES256']) {
      const signer = key(name);
      const cached = await verifyDpopProof(await proof(signer), EXPECT, { now: NOW, keyCache });
      expect(cached.jkt).toBe(await calculateJwkThumbprint(signer.publicJwk, 'sha256'));
    }
    // Signed by one key, carrying a cached other key: the signature check uses the carried key.
    await verifyDpopProof(await proof(key('ES256')), EXPECT, { now: NOW, keyCache });
    const other = await testKey('ES256');
    await expect(verifyDpopProof(await proof({ ...other, publicJwk: key('ES256').publicJwk }), EXPECT, { now: NOW, keyCache })).rejects.toThrow(
      /signature does not verify/,
    );
  });

  it("checks every proof in full when its header is cached: claims, signature, and the caller's algorithms", async () => {
    const keyCache = createDpopKeyCache();
    const signer = key('ES256');
    const first = await proof(signer);
    await verifyDpopProof(first, EXPECT, { now: NOW, keyCache });
    const header = first.split('.')[0] as string;
    // The same header text, now with claims or a signature that are wrong: each is still refused.
    const sameHeader = async (overrides: Record<string, unknown>): Promise<string> => {
      const made = await proof(signer, overrides);
      expect(made.split('.')[0]).toBe(header);
      return made;
    };
    await expect(verifyDpopProof(await sameHeader({ htm: 'GET' }), EXPECT, { now: NOW, keyCache })).rejects.toThrow(/"htm" does not match/);
    await expect(verifyDpopProof(await sameHeader({ iat: NOW_SECONDS - 3600 }), EXPECT, { now: NOW, keyCache })).rejects.toThrow(/too old/);
    const [, payload] = (await sameHeader({})).split('.');
    const otherSignature = (await proof(signer)).split('.')[2];
    await expect(verifyDpopProof(`${header}.${payload}.${otherSignature}`, EXPECT, { now: NOW, keyCache })).rejects.toThrow(/signature does not verify/);
    await expect(verifyDpopProof(`${header}.!!.${otherSignature}`, EXPECT, { now: NOW, keyCache })).rejects.toThrow(/not a compact JWS/);
    await expect(verifyDpopProof(`${header}.bm90IGpzb24.${otherSignature}`, EXPECT, { now: NOW, keyCache })).rejects.toThrow(/payload is not/);
    // A caller that accepts fewer algorithms refuses the cached header's.
    await expect(verifyDpopProof(await sameHeader({}), EXPECT, { now: NOW, keyCache, algorithms: ['EdDSA'] })).rejects.toThrow(
      /algorithm is not supported \(one of EdDSA\)/,
    );
    expect((await verifyDpopProof(await sameHeader({}), EXPECT, { now: NOW, keyCache })).jkt).toBe(await calculateJwkThumbprint(signer.publicJwk, 'sha256'));
  });

  it('caches only headers that passed: a bad one is refused every time', async () => {
    const keyCache = createDpopKeyCache();
    const badTyp = await proof(key('ES256'), {}, { typ: 'jwt' });
    for (let attempt = 0; attempt < 2; attempt++) {
      await expect(verifyDpopProof(badTyp, EXPECT, { now: NOW, keyCache })).rejects.toThrow(/"typ" must be "dpop\+jwt"/);
    }
    expect(keyCache.checkedHeader(badTyp.split('.')[0] as string)).toBeUndefined();
  });

  it('keys the replay cache by key thumbprint and jti', async () => {
    const result = await verify(await proof(key('ES256'), { jti: 'one' }));
    expect(dpopReplayKey(result)).toBe(JSON.stringify(['dpop', result.jkt, 'one']));
  });
});

describe('each RFC 9449 §4.3 check refuses a proof that fails it, naming the check', () => {
  const accessToken = 'the-access-token';
  const cases: [string, () => Promise<string | readonly string[] | undefined>, RegExp, DpopExpectations?][] = [
    // 1. one DPoP header
    ['no DPoP header', async () => undefined, /a DPoP proof is required/],
    ['an empty list of DPoP headers', async () => [], /a DPoP proof is required/],
    ['two DPoP headers', async () => [await proof(), await proof()], /exactly one DPoP header/],
    ['two DPoP headers joined by Node', async () => `${await proof()}, ${await proof()}`, /exactly one DPoP header/],
    // 2. a well-formed JWS
    ['a proof longer than 8192 characters', async () => proof(key('ES256'), { padding: 'x'.repeat(9000) }), /longer than 8192/],
    ['not a JWS at all', async () => 'not-a-jwt', /not a compact JWS/],
    ['a JWE (five parts)', async () => 'eyJhbGciOiJSU0EtT0FFUCJ9.a.b.c.d', /not a compact JWS/],
    ['a header that is not JSON', async () => `${Buffer.from('{nope').toString('base64url')}.e30.c2ln`, /header is not a base64url-encoded JSON object/],
    [
      'a payload that is not JSON',
      async () =>
        handBuiltJws({ typ: 'dpop+jwt', jwk: key('ES256').publicJwk }, new TextEncoder().encode('not json'), { key: key('ES256').privateKey, alg: 'ES256' }),
      /payload is not a base64url-encoded JSON object/,
    ],
    [
      'a payload that is a JSON array',
      async () =>
        handBuiltJws({ typ: 'dpop+jwt', jwk: key('ES256').publicJwk }, new TextEncoder().encode('[1]'), { key: key('ES256').privateKey, alg: 'ES256' }),
      /payload is not a base64url-encoded JSON object/,
    ],
    // 4. typ
    ['no typ', async () => proof(key('ES256'), {}, { typ: undefined }), /"typ" must be "dpop\+jwt"/],
    ['typ JWT', async () => proof(key('ES256'), {}, { typ: 'JWT' }), /"typ" must be "dpop\+jwt"/],
    ['typ application/dpop+jwt', async () => proof(key('ES256'), {}, { typ: 'application/dpop+jwt' }), /"typ" must be "dpop\+jwt"/],
    // 5. alg
    ['alg none', async () => handBuiltJws({ alg: 'none', typ: 'dpop+jwt', jwk: key('ES256').publicJwk }, claims()), /alg "none" is not allowed/],
    [
      'alg HS256',
      async () => handBuiltJws({ typ: 'dpop+jwt', jwk: { kty: 'oct', k: 'c2VjcmV0' } }, claims(), { key: new Uint8Array(32).fill(1), alg: 'HS256' }),
      /HMAC \(HS\*\) is not allowed/,
    ],
    ['an unsupported alg', async () => handBuiltJws({ alg: 'ES256K', typ: 'dpop+jwt', jwk: key('ES256').publicJwk }, claims()), /algorithm is not supported/],
    ['no alg', async () => `${Buffer.from(JSON.stringify({ typ: 'dpop+jwt', jwk: key('ES256').publicJwk })).toString('base64url')}.e30.c2ln`, /has no "alg"/],
    // 7. jwk: present, public, fit for alg
    ['no jwk', async () => proof(key('ES256'), {}, { jwk: undefined }), /has no "jwk"/],
    [
      'a jwk that is a string',
      async () => handBuiltJws({ typ: 'dpop+jwt', jwk: 'key' }, claims(), { key: key('ES256').privateKey, alg: 'ES256' }),
      /"jwk" is not usable: a JWK must be a JSON object/,
    ],
    [
      'a private EC jwk (d)',
      async () => handBuiltJws({ typ: 'dpop+jwt', jwk: key('ES256').privateJwk }, claims(), { key: key('ES256').privateKey, alg: 'ES256' }),
      /private key material \("d"\)/,
    ],
    [
      'a private RSA jwk',
      async () => handBuiltJws({ typ: 'dpop+jwt', jwk: key('RS256').privateJwk }, claims(), { key: key('RS256').privateKey, alg: 'RS256' }),
      /private key material/,
    ],
    [
      'an RSA jwk with only p and q added',
      async () =>
        handBuiltJws({ typ: 'dpop+jwt', jwk: { ...key('RS256').publicJwk, p: key('RS256').privateJwk.p, q: key('RS256').privateJwk.q } }, claims(), {
          key: key('RS256').privateKey,
          alg: 'RS256',
        }),
      /private key material \("p"\)/,
    ],
    [
      'a symmetric jwk',
      async () => handBuiltJws({ typ: 'dpop+jwt', jwk: { kty: 'oct', k: 'c2VjcmV0' } }, claims(), { key: key('ES256').privateKey, alg: 'ES256' }),
      /symmetric \(oct\) keys are not allowed/,
    ],
    [
      'an RSA jwk with ES256',
      async () => handBuiltJws({ typ: 'dpop+jwt', jwk: key('RS256').publicJwk }, claims(), { key: key('ES256').privateKey, alg: 'ES256' }),
      /does not fit "alg": a RSA key cannot check ES256/,
    ],
    [
      'a P-384 jwk with ES256',
      async () => handBuiltJws({ typ: 'dpop+jwt', jwk: key('P384').publicJwk }, claims(), { key: key('ES256').privateKey, alg: 'ES256' }),
      /does not fit "alg": a EC P-384 key cannot check ES256/,
    ],
    ['an RSA jwk of 1024 bits', async () => handBuiltJws({ alg: 'RS256', typ: 'dpop+jwt', jwk: SMALL_RSA_JWK }, claims()), /RSA keys need at least 2048 bits/],
    [
      'a jwk whose own alg differs',
      async () => proof(key('ES256'), {}, { jwk: { ...key('ES256').publicJwk, alg: 'ES384' } }),
      /the key is for ES384, not ES256/,
    ],
    ['a jwk for encryption (use enc)', async () => proof(key('ES256'), {}, { jwk: { ...key('ES256').publicJwk, use: 'enc' } }), /"use" must be "sig"/],
    [
      'a jwk that is not a point on the curve',
      async () => proof(key('ES256'), {}, { jwk: { ...key('ES256').publicJwk, y: key('ES256').publicJwk.x } }),
      /"jwk" is not a valid public key/,
    ],
    [
      'a crit header',
      async () => signedEs256({ alg: 'ES256', typ: 'dpop+jwt', jwk: key('ES256').publicJwk, crit: ['exp'], exp: 1 }, claims(), key('ES256').privateKey),
      /has "crit"; no JWS extensions are supported/,
    ],
    [
      'an unencoded payload (b64 false)',
      async () => signedEs256({ alg: 'ES256', typ: 'dpop+jwt', jwk: key('ES256').publicJwk, b64: false, crit: ['b64'] }, claims(), key('ES256').privateKey),
      /has "crit"/,
    ],
    // 6. signature
    [
      'a signature by another key',
      async () => proof({ ...key('ES256'), publicJwk: (await testKey('ES256')).publicJwk }),
      /signature does not verify with its "jwk"/,
    ],
    [
      'a payload changed after signing',
      async () => {
        const [header, , signature] = (await proof()).split('.');
        return `${header}.${Buffer.from(JSON.stringify(claims({ htm: 'POST' }))).toString('base64url')}.${signature}`;
      },
      /signature does not verify/,
    ],
    ['an empty signature', async () => `${(await proof()).split('.').slice(0, 2).join('.')}.`, /signature does not verify/],
    // 3. required claims
    ['no jti', async () => proof(key('ES256'), { jti: undefined }), /has no "jti"/],
    ['an empty jti', async () => proof(key('ES256'), { jti: '' }), /has no "jti"/],
    ['a numeric jti', async () => proof(key('ES256'), { jti: 42 }), /has no "jti"/],
    ['a jti of 257 characters', async () => proof(key('ES256'), { jti: 'j'.repeat(257) }), /"jti" is longer than 256/],
    ['no htm', async () => proof(key('ES256'), { htm: undefined }), /has no "htm"/],
    ['no htu', async () => proof(key('ES256'), { htu: undefined }), /has no "htu"/],
    ['no iat', async () => proof(key('ES256'), { iat: undefined }), /has no "iat"/],
    ['an iat that is a string', async () => proof(key('ES256'), { iat: String(NOW_SECONDS) }), /has no "iat"/],
    // 8. htm
    ['htm GET at a POST endpoint', async () => proof(key('ES256'), { htm: 'GET' }), /"htm" does not match the request method POST/],
    ['htm in lower case', async () => proof(key('ES256'), { htm: 'post' }), /"htm" does not match/],
    // 9. htu
    [
      'htu of another host',
      async () => proof(key('ES256'), { htu: 'https://evil.example/token' }),
      /"htu" does not match https:\/\/as.example\/token, the URL this endpoint is served at$/,
    ],
    ['htu of another path', async () => proof(key('ES256'), { htu: 'https://as.example/introspect' }), /"htu" does not match/],
    ['htu with http for https', async () => proof(key('ES256'), { htu: 'http://as.example/token' }), /"htu" does not match/],
    ['htu with a trailing slash', async () => proof(key('ES256'), { htu: 'https://as.example/token/' }), /"htu" does not match/],
    ['htu with another port', async () => proof(key('ES256'), { htu: 'https://as.example:8443/token' }), /"htu" does not match/],
    ['htu with user information', async () => proof(key('ES256'), { htu: 'https://user@as.example/token' }), /"htu" does not match/],
    ['htu that is not a URL', async () => proof(key('ES256'), { htu: '/token' }), /"htu" does not match/],
    // 11. iat window
    ['iat 61 seconds old', async () => proof(key('ES256'), { iat: NOW_SECONDS - 61 }), /too old: its "iat" is more than 60 seconds ago/],
    ['iat 6 seconds in the future', async () => proof(key('ES256'), { iat: NOW_SECONDS + 6 }), /"iat" is in the future/],
    // 12. ath
    ['no ath with an access token', async () => proof(), /has no "ath"/, { ...EXPECT, accessToken }],
    [
      'an ath of another token',
      async () => proof(key('ES256'), { ath: accessTokenHash('another-token') }),
      /"ath" does not match the access token/,
      { ...EXPECT, accessToken },
    ],
    // 10. nonce claim type
    ['a nonce that is not a string', async () => proof(key('ES256'), { nonce: 12 }), /"nonce" must be a string/],
  ];

  it.each(cases)('%s', async (_name, build, message, expectations = EXPECT) => {
    const value = await build();
    const error = await rejection(value, expectations);
    expect(error).toBeInstanceOf(InvalidDpopProof);
    expect(error.status).toBe(400);
    expect(error.error).toBe('invalid_dpop_proof');
    expect(error.description).toMatch(message);
    // Never echo the proof (or any part of it) back.
    const proofs = value === undefined ? [] : typeof value === 'string' ? [value] : value;
    for (const part of proofs.flatMap((text) => text.split(/[.,]/)).filter((part) => part.length > 8)) expect(error.description).not.toContain(part);
    expect(error.description).not.toContain('evil.example');
  });

  it('refuses the same proof when it is checked again later than its window (its acceptedUntil)', async () => {
    const value = await proof();
    const accepted = await verify(value);
    await expect(verify(value, EXPECT, new Date(accepted.acceptedUntil.getTime() + 1000))).rejects.toThrow(/too old/);
  });
});

describe('a required server nonce (RFC 9449 §8)', () => {
  const clock = new TestClock(NOW);
  const nonces = createDpopNonces({ secret: Buffer.alloc(32, 9), clock });
  const required = { ...EXPECT, requiredNonce: nonces };

  it('missing: use_dpop_nonce, with a fresh nonce in DPoP-Nonce and no WWW-Authenticate', async () => {
    const error = await rejection(await proof(), required);
    expect(error).toBeInstanceOf(UseDpopNonce);
    expect(error.status).toBe(400);
    expect(error.error).toBe('use_dpop_nonce');
    expect(error.headers['DPoP-Nonce']).toBe(nonces.current());
    expect(error.headers).not.toHaveProperty('WWW-Authenticate');
    expect(error.description).toMatch(/requires a nonce/);
  });

  it('stale (two windows old): use_dpop_nonce with the current nonce', async () => {
    const old = createDpopNonces({ secret: Buffer.alloc(32, 9), clock: new TestClock(new Date(NOW.getTime() - 125_000)) }).current();
    const error = await rejection(await proof(key('ES256'), { nonce: old }), required);
    expect(error).toBeInstanceOf(UseDpopNonce);
    expect(error.headers['DPoP-Nonce']).toBe(nonces.current());
    expect(error.description).toMatch(/not current/);
  });

  it('made up: use_dpop_nonce', async () => {
    await expect(verify(await proof(key('ES256'), { nonce: 'A'.repeat(43) }), required)).rejects.toBeInstanceOf(UseDpopNonce);
  });

  it('comes last: a proof that is wrong otherwise is invalid_dpop_proof even without its nonce', async () => {
    await expect(verify(await proof(key('ES256'), { htm: 'GET' }), required)).rejects.toBeInstanceOf(InvalidDpopProof);
  });
});
