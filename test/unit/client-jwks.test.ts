import { generateKeyPairSync } from 'node:crypto';
import type { JWK } from 'jose';
import { checkClientJwks, checkJwksUri, MAX_JWKS_BYTES, parseClientJwks, usableRemoteKeys } from '../../src/client-assertions/client-jwks.js';
import { cacheLifetimeSeconds, REMOTE_JWKS_DEFAULTS } from '../../src/client-assertions/client-keys.js';

const exportPair = (type: 'rsa' | 'ec' | 'ed25519' | 'x25519', options: Record<string, unknown> = {}): { publicJwk: JWK; privateJwk: JWK } => {
  const pair = generateKeyPairSync(type as 'rsa', options as { modulusLength: number });
  return { publicJwk: pair.publicKey.export({ format: 'jwk' }), privateJwk: pair.privateKey.export({ format: 'jwk' }) };
};
const RSA = exportPair('rsa', { modulusLength: 2048 });
const RSA_1024 = exportPair('rsa', { modulusLength: 1024 });
const P256 = exportPair('ec', { namedCurve: 'P-256' });
const P384 = exportPair('ec', { namedCurve: 'P-384' });
const ED25519 = exportPair('ed25519');
const X25519 = exportPair('x25519');

describe('a JWK Set given at registration (--jwks) holds only public keys usable for client assertions', () => {
  it('keeps RSA, P-256 and Ed25519 public keys, with only their public members and kid, alg, use', () => {
    const check = checkClientJwks({
      keys: [
        { ...RSA.publicJwk, kid: 'rsa', alg: 'PS256', use: 'sig', x5c: ['MIIB'], ext: true },
        { ...P256.publicJwk, kid: 'ec', key_ops: ['verify'] },
        { ...ED25519.publicJwk, kid: 'ed' },
      ],
    });
    expect(check).toEqual({
      valid: true,
      jwks: {
        keys: [
          { kty: 'RSA', n: RSA.publicJwk.n, e: RSA.publicJwk.e, kid: 'rsa', alg: 'PS256', use: 'sig' },
          { kty: 'EC', crv: 'P-256', x: P256.publicJwk.x, y: P256.publicJwk.y, kid: 'ec' },
          { kty: 'OKP', crv: 'Ed25519', x: ED25519.publicJwk.x, kid: 'ed' },
        ],
      },
    });
  });

  it.each([
    ['not an object', [RSA.publicJwk], /a JWK Set is a JSON object/],
    ['no keys member', { key: [RSA.publicJwk] }, /a JWK Set is a JSON object/],
    ['no keys', { keys: [] }, /holds no keys/],
    ['eleven keys', { keys: Array.from({ length: 11 }, (_, i) => ({ ...P256.publicJwk, kid: String(i) })) }, /at most 10 keys/],
    ['a private RSA key', { keys: [RSA.privateJwk] }, /keys\[0\]: the JWK holds private key material \("d"\)/],
    ['a private EC key', { keys: [P256.publicJwk, P256.privateJwk] }, /keys\[1\]: the JWK holds private key material/],
    ['a symmetric key', { keys: [{ kty: 'oct', k: 'c2VjcmV0' }] }, /symmetric \(oct\) keys are not allowed/],
    [
      'a P-384 key (ES384 is not accepted)',
      { keys: [P384.publicJwk] },
      /the key \(kty EC, crv P-384\) cannot check any of RS256, PS256, ES256, EdDSA, Ed25519/,
    ],
    ['an X25519 key', { keys: [X25519.publicJwk] }, /curve of the OKP key is not supported/],
    ['an RSA key of 1024 bits', { keys: [RSA_1024.publicJwk] }, /at least 2048 bits/],
    ['an RSA key marked RS512', { keys: [{ ...RSA.publicJwk, alg: 'RS512' }] }, /the key \(kty RSA, alg RS512\) cannot check any/],
    ['an encryption key', { keys: [{ ...RSA.publicJwk, use: 'enc' }] }, /"use" must be "sig"/],
    ['key_ops without verify', { keys: [{ ...RSA.publicJwk, key_ops: ['encrypt'] }] }, /"key_ops" must include "verify"/],
    [
      'two keys with one kid',
      {
        keys: [
          { ...RSA.publicJwk, kid: 'k' },
          { ...P256.publicJwk, kid: 'k' },
        ],
      },
      /keys\[1\]: the kid is used by another key/,
    ],
    ['an empty kid', { keys: [{ ...RSA.publicJwk, kid: '' }] }, /"kid" must be a non-empty string/],
    ['an unknown key type', { keys: [{ kty: 'AKP', alg: 'ML-DSA-44', pub: 'AAAA' }] }, /key type "AKP" is not supported/],
    ['an EC point that is not on the curve', { keys: [{ ...P256.publicJwk, y: P256.publicJwk.x }] }, /not a valid public key/],
    ['an x that is not base64url', { keys: [{ ...ED25519.publicJwk, x: 'a+b/' }] }, /"x" of the JWK is not base64url/],
  ])('refuses %s', (_name, value, problem) => {
    const check = checkClientJwks(value);
    expect(check.valid).toBe(false);
    if (!check.valid) expect(check.problem).toMatch(problem);
  });

  it('parses --jwks text, refusing bad JSON and sets over 64 KiB', () => {
    expect(parseClientJwks(JSON.stringify({ keys: [P256.publicJwk] })).valid).toBe(true);
    expect(parseClientJwks('{"keys": [')).toEqual({ valid: false, problem: 'the JWK Set is not valid JSON' });
    expect(parseClientJwks(JSON.stringify({ keys: [P256.publicJwk], padding: 'x'.repeat(MAX_JWKS_BYTES) }))).toEqual({
      valid: false,
      problem: `a JWK Set is at most ${MAX_JWKS_BYTES} bytes`,
    });
  });
});

describe('a jwks_uri is https, or http on a loopback address', () => {
  it.each([
    ['https://client.example/jwks.json', 'https://client.example/jwks.json'],
    ['https://client.example:8443/keys?tenant=a', 'https://client.example:8443/keys?tenant=a'],
    ['http://127.0.0.1:8080/jwks', 'http://127.0.0.1:8080/jwks'],
    ['http://localhost/jwks', 'http://localhost/jwks'],
    ['http://[::1]:9000/jwks', 'http://[::1]:9000/jwks'],
  ])('accepts %s', (uri, normal) => {
    expect(checkJwksUri(uri)).toEqual({ valid: true, uri: normal });
  });

  it.each([
    ['http://client.example/jwks', /must use https \(http only on a loopback address\)/],
    ['http://10.0.0.1/jwks', /must use https/],
    ['http://0.0.0.0/jwks', /must use https/],
    ['ftp://client.example/jwks', /must be an https URL/],
    ['file:///etc/passwd', /must be an https URL/],
    ['/jwks', /not an absolute URL/],
    ['https://user:pass@client.example/jwks', /user information/],
    ['https://client.example/jwks#keys', /fragment/],
    [`https://client.example/${'a'.repeat(2048)}`, /at most 2048 characters/],
  ])('refuses %s', (uri, problem) => {
    const check = checkJwksUri(uri);
    expect(check.valid).toBe(false);
    if (!check.valid) expect(check.problem).toMatch(problem);
  });
});

describe('a JWK Set fetched from a jwks_uri', () => {
  it('keeps the usable keys and skips the others (encryption keys, other curves)', () => {
    const result = usableRemoteKeys({ keys: [{ ...RSA.publicJwk, use: 'enc' }, P384.publicJwk, { ...P256.publicJwk, kid: 'a' }, 'junk'] });
    expect(result).toEqual({ keys: [{ kty: 'EC', crv: 'P-256', x: P256.publicJwk.x, y: P256.publicJwk.y, kid: 'a' }] });
  });

  it('is refused whole when it publishes private key material, or holds nothing usable', () => {
    expect(usableRemoteKeys({ keys: [P256.publicJwk, RSA.privateJwk] })).toEqual({ problem: expect.stringMatching(/private or symmetric key material/) });
    expect(usableRemoteKeys({ keys: [{ kty: 'oct', k: 'c2VjcmV0' }] })).toEqual({ problem: expect.stringMatching(/private or symmetric key material/) });
    expect(usableRemoteKeys({ keys: [P384.publicJwk] })).toEqual({ problem: expect.stringMatching(/no key usable/) });
    expect(usableRemoteKeys([])).toEqual({ problem: expect.stringMatching(/did not answer a JWK Set/) });
  });
});

describe('how long a fetched JWK Set is used', () => {
  it.each([
    [null, 300],
    ['max-age=600', 600],
    ['public, max-age=120, must-revalidate', 120],
    ['max-age=10', 60],
    ['max-age=999999', 3600],
    ['no-store', 60],
    ['no-cache, max-age=600', 60],
    ['s-maxage=900', 300],
    ['MAX-AGE=900', 900],
  ])('Cache-Control %p → %i s', (header, seconds) => {
    expect(cacheLifetimeSeconds(header, REMOTE_JWKS_DEFAULTS)).toBe(seconds);
  });
});
