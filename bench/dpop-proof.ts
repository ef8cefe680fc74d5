/**
 * DPoP proofs for the bench (RFC 9449 §4.2), made synchronously with node:crypto so that autocannon's
 * setupRequest can put a fresh one on every request: ES256, a new jti each time.
 */
import { createPrivateKey, generateKeyPairSync, randomUUID, sign, type JsonWebKey } from 'node:crypto';

/** A new ES256 key pair as a private JWK (it carries the public members too). */
export function newDpopKey(): JsonWebKey {
  return generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'jwk' });
}

/** A function that makes a fresh proof for POST `htu` with the key of `privateJwk` each time it is called. */
export function dpopProofMaker(privateJwk: JsonWebKey, htu: string): () => string {
  const key = createPrivateKey({ key: privateJwk, format: 'jwk' });
  const { kty, crv, x, y } = privateJwk;
  const header = Buffer.from(JSON.stringify({ typ: 'dpop+jwt', alg: 'ES256', jwk: { kty, crv, x, y } })).toString('base64url');
  return () => {
    const payload = Buffer.from(JSON.stringify({ jti: randomUUID(), htm: 'POST', htu, iat: Math.floor(Date.now() / 1000) })).toString('base64url');
    const input = `${header}.${payload}`;
    return `${input}.${sign('sha256', Buffer.from(input), { key, dsaEncoding: 'ieee-p1363' }).toString('base64url')}`;
  };
}
