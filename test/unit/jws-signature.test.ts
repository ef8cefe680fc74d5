import { KeyObject, sign } from 'node:crypto';
import { CompactSign, SignJWT, exportJWK, generateKeyPair, type CryptoKey } from 'jose';
import { decodeCompactJws, signCompactRs256, verifyCompactJwsSignature } from '../../src/lib/jws.js';
import { importPublicJwk } from '../../src/lib/jwk.js';

const ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA', 'Ed25519'] as const;
const payload = new TextEncoder().encode(JSON.stringify({ hello: 'world' }));

interface Signer {
  privateKey: CryptoKey;
  publicKey: KeyObject;
}
const signers: Record<string, Signer> = {};
beforeAll(async () => {
  for (const alg of ALGORITHMS) {
    const pair = await generateKeyPair(alg, { extractable: true });
    signers[alg] = { privateKey: pair.privateKey, publicKey: importPublicJwk(await exportJWK(pair.publicKey)) };
  }
});
const signer = (alg: string): Signer => signers[alg] as Signer;
const jws = (alg: string, by: string = alg): Promise<string> => new CompactSign(payload).setProtectedHeader({ alg }).sign(signer(by).privateKey);

describe('JWS signatures are verified with node:crypto as jose makes them', () => {
  it.each(ALGORITHMS)('%s made by jose verifies', async (alg) => {
    expect(await verifyCompactJwsSignature(await jws(alg), signer(alg).publicKey, alg)).toBe(true);
  });

  it.each(ALGORITHMS)('%s with a changed payload does not', async (alg) => {
    const [header, , signature] = (await jws(alg)).split('.');
    expect(
      await verifyCompactJwsSignature(`${header}.${Buffer.from('{"hello":"there"}').toString('base64url')}.${signature}`, signer(alg).publicKey, alg),
    ).toBe(false);
  });

  it.each([
    ['an RS256 signature checked as PS256', 'RS256', 'PS256'],
    ['a PS256 signature checked as RS256', 'PS256', 'RS256'],
    ['an ES256 signature checked as ES384', 'ES256', 'ES384'],
    ['an RS256 signature checked as HS256', 'RS256', 'HS256'],
    ['an RS256 signature checked as none', 'RS256', 'none'],
  ])('%s does not', async (_name, made, checked) => {
    expect(await verifyCompactJwsSignature(await jws(made), signer(made).publicKey, checked)).toBe(false);
  });

  it('does not check a signature with a key of the wrong type or curve', async () => {
    expect(await verifyCompactJwsSignature(await jws('ES256'), signer('ES384').publicKey, 'ES256')).toBe(false);
    expect(await verifyCompactJwsSignature(await jws('RS256'), signer('ES256').publicKey, 'RS256')).toBe(false);
    expect(await verifyCompactJwsSignature(await jws('EdDSA'), signer('RS256').publicKey, 'EdDSA')).toBe(false);
  });

  it('refuses an ECDSA signature in DER form (JWS uses r || s) and an empty signature', async () => {
    const token = await jws('ES256');
    const input = token.slice(0, token.lastIndexOf('.'));
    const der = sign('sha256', Buffer.from(input), { key: KeyObject.from(signer('ES256').privateKey), dsaEncoding: 'der' });
    expect(await verifyCompactJwsSignature(`${input}.${der.toString('base64url')}`, signer('ES256').publicKey, 'ES256')).toBe(false);
    expect(await verifyCompactJwsSignature(`${input}.`, signer('ES256').publicKey, 'ES256')).toBe(false);
  });

  it('decodes header and payload without verifying, and nothing that is not three base64url parts', () => {
    expect(decodeCompactJws('eyJhIjoxfQ.eyJiIjoyfQ.')).toEqual({ header: { a: 1 }, payload: { b: 2 } });
    expect(decodeCompactJws('eyJhIjoxfQ.WzFd.c2ln')).toEqual({ header: { a: 1 }, payload: undefined });
    expect(decodeCompactJws('a.b')).toBeUndefined();
    expect(decodeCompactJws('a.b.c.d.e')).toBeUndefined();
    expect(decodeCompactJws('a+b.c.d')).toBeUndefined();
  });

  it('signs RS256 tokens byte for byte as jose SignJWT does (PKCS#1 v1.5 is deterministic)', async () => {
    const header = { alg: 'RS256', typ: 'at+jwt', kid: 'k1' };
    const claims = { iss: 'https://as.example', sub: 'ü', aud: ['a', 'b'], exp: 2, iat: 1, jti: 'j', scope: 'x y', cnf: { jkt: 't' } };
    const token = await signCompactRs256(signer('RS256').privateKey, header, claims);
    expect(token).toBe(await new SignJWT(claims).setProtectedHeader(header).sign(signer('RS256').privateKey));
    expect(await verifyCompactJwsSignature(token, signer('RS256').publicKey, 'RS256')).toBe(true);
  });
});
