import { randomUUID } from 'node:crypto';
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK } from 'jose';
import { checkClientJwks, type ClientJwkSet } from '../../src/client-assertions/client-jwks.js';
import { storedClientKeys } from '../../src/client-assertions/client-keys.js';
import {
  CLIENT_ASSERTION_TYPE,
  clientAssertionClientId,
  clientAssertionReplayKey,
  decodeClientAssertion,
  verifyClientAssertion,
  type ClientAssertionContext,
  type PresentedClientAssertion,
} from '../../src/client-assertions/verify-client-assertion.js';
import { handBuiltJws, signedEs256 } from '../helpers/jws.js';

const NOW = new Date('2026-11-29T10:00:00Z');
const NOW_SECONDS = NOW.getTime() / 1000;
const ISSUER = 'https://as.example';
const TOKEN_ENDPOINT = 'https://as.example/token';
const CLIENT_ID = 'reporting-service';

interface TestKey {
  alg: string;
  kid: string;
  privateKey: CryptoKey;
  publicJwk: JWK;
}

const keys: Record<string, TestKey> = {};
let jwks: ClientJwkSet;
let context: ClientAssertionContext;

async function testKey(alg: string, kid: string): Promise<TestKey> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  return { alg, kid, privateKey, publicJwk: { ...(await exportJWK(publicKey)), kid } };
}

beforeAll(async () => {
  for (const alg of ['RS256', 'PS256', 'ES256', 'EdDSA']) keys[alg] = await testKey(alg, `key-${alg}`);
  keys.stranger = await testKey('ES256', 'key-ES256');
  keys.ES384 = await testKey('ES384', 'key-ES384');
  // The client registered one key per algorithm; PS256 shares the RSA kind, so it has its own key.
  const check = checkClientJwks({ keys: ['RS256', 'PS256', 'ES256', 'EdDSA'].map((alg) => key(alg).publicJwk) });
  if (!check.valid) throw new Error(check.problem);
  jwks = check.jwks;
  context = { clientId: CLIENT_ID, keys: storedClientKeys(jwks), issuer: ISSUER, tokenEndpointUrl: TOKEN_ENDPOINT, now: NOW };
});
const key = (name: string): TestKey => keys[name] as TestKey;

function claims(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  const base: Record<string, unknown> = { iss: CLIENT_ID, sub: CLIENT_ID, aud: ISSUER, exp: NOW_SECONDS + 60, iat: NOW_SECONDS, jti: randomUUID() };
  for (const [name, value] of Object.entries(overrides)) {
    if (value === undefined) delete base[name];
    else base[name] = value;
  }
  return base;
}

/** An assertion as a client makes one (kid in the header unless told otherwise). */
async function assertion(signer: TestKey = key('ES256'), claimOverrides: Record<string, unknown> = {}, header: Record<string, unknown> = {}): Promise<string> {
  return new SignJWT(claims(claimOverrides)).setProtectedHeader({ alg: signer.alg, kid: signer.kid, ...header }).sign(signer.privateKey);
}

const presented = (value: string | undefined, assertionType: string | undefined = CLIENT_ASSERTION_TYPE): PresentedClientAssertion => ({
  assertionType,
  assertion: value,
});

describe('a private_key_jwt client assertion signed by a key of the client JWK Set is accepted', () => {
  it.each(['RS256', 'PS256', 'ES256', 'EdDSA'])('signed with %s', async (alg) => {
    const jti = randomUUID();
    const result = await verifyClientAssertion(presented(await assertion(key(alg), { jti })), context);
    expect(result).toEqual({ valid: true, clientId: CLIENT_ID, jti, acceptedUntil: new Date((NOW_SECONDS + 60 + 5) * 1000) });
  });

  it.each([
    ['aud the token endpoint', { aud: TOKEN_ENDPOINT }],
    ['aud a list holding the issuer', { aud: ['https://other.example', ISSUER] }],
    ['aud a list holding the token endpoint', { aud: [TOKEN_ENDPOINT] }],
    ['exp 300 seconds ahead', { exp: NOW_SECONDS + 300 }],
    ['exp 3 seconds ago (clock skew)', { exp: NOW_SECONDS - 3, iat: NOW_SECONDS - 30 }],
    ['no iat', { iat: undefined }],
    ['nbf and iat 4 seconds ahead (clock skew)', { nbf: NOW_SECONDS + 4, iat: NOW_SECONDS + 4 }],
  ])('%s', async (_name, overrides) => {
    await expect(verifyClientAssertion(presented(await assertion(key('ES256'), overrides)), context)).resolves.toMatchObject({ valid: true });
  });

  it('finds the key without a kid by trying each key fit for the algorithm', async () => {
    await expect(verifyClientAssertion(presented(await assertion(key('PS256'), {}, { kid: undefined })), context)).resolves.toMatchObject({ valid: true });
  });

  it('takes a shorter lifetime limit from the caller', async () => {
    const value = await assertion(key('ES256'), { exp: NOW_SECONDS + 120 });
    await expect(verifyClientAssertion(presented(value), { ...context, maxLifetimeSeconds: 60 })).resolves.toEqual({
      valid: false,
      reason: 'exp is more than 60 seconds ahead',
    });
  });
});

describe('every check refuses with one outcome and a precise reason for the log', () => {
  const cases: [string, () => Promise<PresentedClientAssertion>, RegExp][] = [
    ['no client_assertion_type', async () => ({ assertionType: undefined, assertion: await assertion() }), /client_assertion_type is missing/],
    [
      'another client_assertion_type',
      async () => presented(await assertion(), 'urn:ietf:params:oauth:client-assertion-type:saml2-bearer'),
      /client_assertion_type is not urn:ietf/,
    ],
    ['no client_assertion', async () => presented(undefined), /client_assertion is missing/],
    ['an empty client_assertion', async () => presented(''), /client_assertion is missing/],
    ['an assertion over 8192 characters', async () => presented(await assertion(key('ES256'), { padding: 'x'.repeat(9000) })), /longer than 8192/],
    ['not a JWS', async () => presented('a.b'), /not a compact JWS/],
    ['a header that is not JSON', async () => presented(`${Buffer.from('nope').toString('base64url')}.e30.c2ln`), /header is not a JSON object/],
    [
      'a payload that is not JSON',
      async () => presented(await handBuiltJws({ kid: 'key-ES256' }, new TextEncoder().encode('nope'), { key: key('ES256').privateKey, alg: 'ES256' })),
      /payload is not a JSON object/,
    ],
    ['alg none', async () => presented(await handBuiltJws({ alg: 'none' }, claims())), /unsigned \(alg none\)/],
    [
      'alg HS256 (a client secret)',
      async () => presented(await handBuiltJws({}, claims(), { key: new Uint8Array(32).fill(3), alg: 'HS256' })),
      /HMAC \(HS\*\)/,
    ],
    ['alg ES384, not accepted for client assertions', async () => presented(await assertion(key('ES384'))), /alg is not one of RS256, PS256, ES256, EdDSA/],
    ['no alg', async () => presented(`${Buffer.from('{}').toString('base64url')}.e30.c2ln`), /has no alg/],
    [
      'a crit header',
      async () => presented(signedEs256({ alg: 'ES256', kid: 'key-ES256', crit: ['exp'], exp: 1 }, claims(), key('ES256').privateKey)),
      /has a crit header/,
    ],
    ['a numeric kid', async () => presented(await assertion(key('ES256'), {}, { kid: 7 })), /kid is not a non-empty string/],
    ['no iss', async () => presented(await assertion(key('ES256'), { iss: undefined })), /^iss is missing$/],
    ['iss of another client', async () => presented(await assertion(key('ES256'), { iss: 'other' })), /^iss is not the client id$/],
    ['no sub', async () => presented(await assertion(key('ES256'), { sub: undefined })), /^sub is missing$/],
    ['sub of another client', async () => presented(await assertion(key('ES256'), { sub: 'other' })), /^sub is not the client id$/],
    ['iss and sub of another client', async () => presented(await assertion(key('ES256'), { iss: 'other', sub: 'other' })), /^iss is not the client id$/],
    ['no aud', async () => presented(await assertion(key('ES256'), { aud: undefined })), /aud is missing/],
    [
      'aud of another server',
      async () => presented(await assertion(key('ES256'), { aud: 'https://other.example' })),
      /aud names neither the issuer nor the token endpoint/,
    ],
    ['aud the issuer with a trailing slash', async () => presented(await assertion(key('ES256'), { aud: `${ISSUER}/` })), /aud names neither/],
    ['aud the introspection endpoint', async () => presented(await assertion(key('ES256'), { aud: `${ISSUER}/introspect` })), /aud names neither/],
    ['aud a list without us', async () => presented(await assertion(key('ES256'), { aud: ['https://a.example', 'https://b.example'] })), /aud names neither/],
    [
      'aud a list holding a number',
      async () => presented(await assertion(key('ES256'), { aud: [ISSUER, 1] })),
      /aud is missing \(a string or an array of strings\)/,
    ],
    ['no exp', async () => presented(await assertion(key('ES256'), { exp: undefined })), /exp is missing/],
    ['exp a string', async () => presented(await assertion(key('ES256'), { exp: String(NOW_SECONDS + 60) })), /exp is missing/],
    ['exp 10 seconds ago', async () => presented(await assertion(key('ES256'), { exp: NOW_SECONDS - 10 })), /has expired/],
    ['exp 301 seconds ahead', async () => presented(await assertion(key('ES256'), { exp: NOW_SECONDS + 301 })), /exp is more than 300 seconds ahead/],
    ['exp a year ahead', async () => presented(await assertion(key('ES256'), { exp: NOW_SECONDS + 365 * 86400 })), /exp is more than 300 seconds ahead/],
    ['nbf a minute ahead', async () => presented(await assertion(key('ES256'), { nbf: NOW_SECONDS + 60 })), /not valid yet \(nbf\)/],
    ['nbf a string', async () => presented(await assertion(key('ES256'), { nbf: 'soon' })), /nbf is not a number/],
    ['iat a minute ahead', async () => presented(await assertion(key('ES256'), { iat: NOW_SECONDS + 60 })), /iat is in the future/],
    ['iat after exp', async () => presented(await assertion(key('ES256'), { iat: NOW_SECONDS + 3, exp: NOW_SECONDS + 2 })), /iat is after exp/],
    ['iat a string', async () => presented(await assertion(key('ES256'), { iat: 'now' })), /iat is not a number/],
    ['no jti', async () => presented(await assertion(key('ES256'), { jti: undefined })), /jti is missing/],
    ['an empty jti', async () => presented(await assertion(key('ES256'), { jti: '' })), /jti is missing/],
    ['a jti of 257 characters', async () => presented(await assertion(key('ES256'), { jti: 'j'.repeat(257) })), /jti is longer than 256/],
    ['a key outside the set, same kid', async () => presented(await assertion(key('stranger'))), /no key of the client with that kid verifies the signature/],
    [
      'a key outside the set, no kid',
      async () => presented(await assertion(key('stranger'), {}, { kid: undefined })),
      /does not verify with any key of the client/,
    ],
    ['an unknown kid', async () => presented(await assertion(key('ES256'), {}, { kid: 'retired' })), /no key of the client with that kid/],
    [
      'the kid of an RSA key on an ES256 signature',
      async () => presented(await assertion(key('ES256'), {}, { kid: 'key-RS256' })),
      /no key of the client with that kid/,
    ],
    [
      'a payload changed after signing',
      async () => {
        const [header, , signature] = (await assertion()).split('.');
        return presented(`${header}.${Buffer.from(JSON.stringify(claims())).toString('base64url')}.${signature}`);
      },
      /verifies the signature/,
    ],
    ['an empty signature', async () => presented(`${(await assertion()).split('.').slice(0, 2).join('.')}.`), /verifies the signature/],
  ];

  it.each(cases)('%s', async (_name, build, reason) => {
    const input = await build();
    const result = await verifyClientAssertion(input, context);
    expect(result.valid).toBe(false);
    if (result.valid) return;
    expect(result.reason).toMatch(reason);
    for (const part of (input.assertion ?? '').split('.').filter((part) => part.length > 8)) expect(result.reason).not.toContain(part);
  });
});

describe('helpers around client assertions', () => {
  it('reads the client id to look the client up from sub, only when iss agrees', async () => {
    const clientIdOf = (value: string): string | undefined => clientAssertionClientId(decodeClientAssertion(value));
    expect(clientIdOf(await assertion())).toBe(CLIENT_ID);
    expect(clientIdOf(await assertion(key('ES256'), { iss: 'other' }))).toBeUndefined();
    expect(clientIdOf(await assertion(key('ES256'), { sub: 42, iss: 42 }))).toBeUndefined();
    expect(clientIdOf('garbage')).toBeUndefined();
    expect(clientIdOf(`a.${'b'.repeat(9000)}.c`)).toBeUndefined();
  });

  it('keeps replay keys of different clients apart, whatever their ids hold', () => {
    expect(clientAssertionReplayKey('a:b', 'c')).not.toBe(clientAssertionReplayKey('a', 'b:c'));
    expect(clientAssertionReplayKey('a', 'b')).toBe(clientAssertionReplayKey('a', 'b'));
  });
});
