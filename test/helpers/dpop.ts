import { randomUUID } from 'node:crypto';
import { calculateJwkThumbprint, exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK } from 'jose';

/** A client's DPoP key pair: the private key signs proofs, the public JWK goes in their header. */
export interface ProofKey {
  privateKey: CryptoKey;
  publicJwk: JWK;
  /** RFC 7638 SHA-256 thumbprint: the `cnf.jkt` of tokens bound to this key. */
  jkt: string;
}

export async function proofKey(alg = 'ES256'): Promise<ProofKey> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  const publicJwk = await exportJWK(publicKey);
  return { privateKey, publicJwk, jkt: await calculateJwkThumbprint(publicJwk, 'sha256') };
}

export interface ProofOptions {
  htu: string;
  htm?: string;
  /** Seconds since the epoch; now by default. */
  iat?: number;
  jti?: string;
  nonce?: string | undefined;
  /** Replace or add header members (undefined removes one). */
  header?: Record<string, unknown>;
  /** Replace or add claims (undefined removes one). */
  claims?: Record<string, unknown>;
  /** Sign with this key while the header shows `key`'s public JWK. */
  signWith?: CryptoKey;
}

/** A DPoP proof JWT (RFC 9449 §4.2), ES256 unless the header says otherwise. */
export async function makeProof(key: ProofKey, options: ProofOptions): Promise<string> {
  const claims: Record<string, unknown> = {
    jti: options.jti ?? randomUUID(),
    htm: options.htm ?? 'POST',
    htu: options.htu,
    iat: options.iat ?? Math.floor(Date.now() / 1000),
    ...(options.nonce === undefined ? {} : { nonce: options.nonce }),
    ...options.claims,
  };
  const header: Record<string, unknown> = { typ: 'dpop+jwt', alg: 'ES256', jwk: key.publicJwk, ...options.header };
  for (const object of [claims, header]) for (const name of Object.keys(object)) if (object[name] === undefined) delete object[name];
  return new SignJWT(claims).setProtectedHeader(header as { alg: string }).sign(options.signWith ?? key.privateKey);
}

/** A compact JWS made by hand, for proofs no library would sign (alg none, HMAC). */
export function unsignedProof(header: Record<string, unknown>, claims: Record<string, unknown>, signature = ''): string {
  const encode = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url');
  return `${encode(header)}.${encode(claims)}.${signature}`;
}
