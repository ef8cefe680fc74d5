import { constants, verify, webcrypto, type KeyObject } from 'node:crypto';

/** A JSON object (not an array, not null). */
export function isJsonObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Three base64url parts separated by dots. The signature may be empty here, so that an unsigned
 * (alg none) token reaches the algorithm check and is refused by name there.
 */
const COMPACT_JWS = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/;

/** The three base64url parts of a compact JWS, not decoded; undefined for anything else. */
export function compactJwsSegments(text: string): [header: string, payload: string, signature: string] | undefined {
  if (!COMPACT_JWS.test(text)) return undefined;
  return text.split('.') as [string, string, string];
}

/** The decoded header and payload of a compact JWS, NOT verified; undefined for anything else. */
export function decodeCompactJws(text: string): { header: Record<string, unknown> | undefined; payload: Record<string, unknown> | undefined } | undefined {
  const segments = compactJwsSegments(text);
  if (!segments) return undefined;
  return { header: decodeJsonPart(segments[0]), payload: decodeJsonPart(segments[1]) };
}

/** A base64url segment holding a JSON object, decoded; undefined for anything else. */
export function decodeJsonPart(part: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
    return isJsonObject(value) ? value : undefined;
  } catch {
    return undefined;
  }
}

interface SignatureScheme {
  /** node:crypto digest name; null for EdDSA, which hashes by itself. */
  hash: string | null;
  keyType: 'rsa' | 'ec' | 'ed25519';
  namedCurve?: string;
  padding?: number;
  saltLength?: number;
  /** ECDSA signatures in JWS are r || s of fixed length (RFC 7518 §3.4). */
  signatureLength?: number;
}

/** The asymmetric JWS algorithms (RFC 7518 §3.3–3.5, RFC 8037, RFC 9864) as node:crypto verifies them. */
const SCHEMES: Readonly<Record<string, SignatureScheme>> = Object.freeze({
  RS256: { hash: 'sha256', keyType: 'rsa', padding: constants.RSA_PKCS1_PADDING },
  RS384: { hash: 'sha384', keyType: 'rsa', padding: constants.RSA_PKCS1_PADDING },
  RS512: { hash: 'sha512', keyType: 'rsa', padding: constants.RSA_PKCS1_PADDING },
  // RFC 7518 §3.5: the salt is as long as the hash.
  PS256: { hash: 'sha256', keyType: 'rsa', padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 },
  PS384: { hash: 'sha384', keyType: 'rsa', padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 48 },
  PS512: { hash: 'sha512', keyType: 'rsa', padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 64 },
  ES256: { hash: 'sha256', keyType: 'ec', namedCurve: 'prime256v1', signatureLength: 64 },
  ES384: { hash: 'sha384', keyType: 'ec', namedCurve: 'secp384r1', signatureLength: 96 },
  ES512: { hash: 'sha512', keyType: 'ec', namedCurve: 'secp521r1', signatureLength: 132 },
  EdDSA: { hash: null, keyType: 'ed25519' },
  Ed25519: { hash: null, keyType: 'ed25519' },
});

/**
 * Whether the signature of a compact JWS verifies with `key` under `alg` (an asymmetric algorithm
 * above; anything else is false). Only the signature: the caller has decoded and checked the
 * header (alg, and no `crit` it does not understand) and checks the claims. node:crypto directly,
 * not WebCrypto (about half the time per proof, which DPoP pays on every token request), and on the
 * libuv pool: the event loop spends about a fifth of a synchronous ES256 verify handing it over,
 * and serves other requests on the other core meanwhile.
 */
export async function verifyCompactJwsSignature(jws: string, key: KeyObject, alg: string): Promise<boolean> {
  const scheme = SCHEMES[alg];
  if (!scheme || key.type !== 'public' || key.asymmetricKeyType !== scheme.keyType) return false;
  if (scheme.namedCurve !== undefined && key.asymmetricKeyDetails?.namedCurve !== scheme.namedCurve) return false;
  const dot = jws.lastIndexOf('.');
  if (dot <= 0) return false;
  const signature = Buffer.from(jws.slice(dot + 1), 'base64url');
  if (signature.length === 0 || (scheme.signatureLength !== undefined && signature.length !== scheme.signatureLength)) return false;
  const signingInput = Buffer.from(jws.slice(0, dot), 'ascii');
  const options = {
    key,
    ...(scheme.padding !== undefined ? { padding: scheme.padding } : {}),
    ...(scheme.saltLength !== undefined ? { saltLength: scheme.saltLength } : {}),
    ...(scheme.signatureLength !== undefined ? { dsaEncoding: 'ieee-p1363' as const } : {}),
  };
  return new Promise<boolean>((resolve) => {
    try {
      // Any failure (a malformed signature, a key unfit for the options) means: not verified.
      verify(scheme.hash, signingInput, options, signature, (error, verified) => resolve(error === null && verified));
    } catch {
      resolve(false);
    }
  });
}

/**
 * An RS256 compact JWS (RFC 7515 §7.1) over these header and claims, signed with a key imported for
 * RS256 (RSASSA-PKCS1-v1_5, SHA-256). The same token jose's SignJWT makes from them, without its
 * per-call claim checks and key preparation: the hot path of every token answer. The signature runs
 * on the libuv pool like jose's, so the event loop keeps serving meanwhile.
 */
export async function signCompactRs256(privateKey: CryptoKey, header: Record<string, unknown>, claims: object): Promise<string> {
  const input = `${Buffer.from(JSON.stringify(header)).toString('base64url')}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}`;
  const signature = await webcrypto.subtle.sign('RSASSA-PKCS1-v1_5', privateKey, Buffer.from(input));
  return `${input}.${Buffer.from(signature).toString('base64url')}`;
}
