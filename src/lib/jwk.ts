import { createPublicKey, type JsonWebKey, type KeyObject } from 'node:crypto';
import type { JWK } from 'jose';
import { isJsonObject } from './jws.js';

/**
 * Asymmetric JWS algorithms (RFC 7518 §3, RFC 8037, RFC 9864) and the key each one needs. HS* and
 * `none` are deliberately absent: whoever checks a signature here only ever holds a public key.
 */
export const ASYMMETRIC_ALGORITHMS: Readonly<Record<string, { kty: 'RSA' | 'EC' | 'OKP'; crv?: string }>> = Object.freeze({
  RS256: { kty: 'RSA' },
  RS384: { kty: 'RSA' },
  RS512: { kty: 'RSA' },
  PS256: { kty: 'RSA' },
  PS384: { kty: 'RSA' },
  PS512: { kty: 'RSA' },
  ES256: { kty: 'EC', crv: 'P-256' },
  ES384: { kty: 'EC', crv: 'P-384' },
  ES512: { kty: 'EC', crv: 'P-521' },
  EdDSA: { kty: 'OKP', crv: 'Ed25519' },
  Ed25519: { kty: 'OKP', crv: 'Ed25519' },
});

/** RFC 7518 §3.3 and §3.5: RSA signing keys of fewer bits are refused. */
export const MIN_RSA_BITS = 2048;

/** Members that only a private (or symmetric) key has (RFC 7518 §6.2.2, §6.3.2, §6.4; RFC 8037 §2). */
const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k', 'priv'] as const;

/** The first member of `value` that only a private or symmetric key has, if any. */
export function privateJwkMember(value: Record<string, unknown>): string | undefined {
  return PRIVATE_MEMBERS.find((member) => value[member] !== undefined);
}

const PUBLIC_MEMBERS: Readonly<Record<string, readonly string[]>> = { RSA: ['n', 'e'], EC: ['crv', 'x', 'y'], OKP: ['crv', 'x'] };
const CURVES: Readonly<Record<string, readonly string[]>> = { EC: ['P-256', 'P-384', 'P-521'], OKP: ['Ed25519'] };
const BASE64URL = /^[A-Za-z0-9_-]+$/;

/** Why `value` is not a public signature key Gatehouse can use, or undefined when it is one. */
export function publicJwkProblem(value: unknown): string | undefined {
  if (!isJsonObject(value)) return 'a JWK must be a JSON object';
  const kty = value.kty;
  if (typeof kty !== 'string') return 'a JWK needs a kty';
  if (kty === 'oct') return 'symmetric (oct) keys are not allowed';
  const members = PUBLIC_MEMBERS[kty];
  if (!members) return `the key type ${JSON.stringify(kty.slice(0, 16))} is not supported (RSA, EC or OKP)`;
  const privateMember = privateJwkMember(value);
  if (privateMember !== undefined) return `the JWK holds private key material ("${privateMember}"); only public keys are allowed`;
  for (const member of members) {
    const memberValue = value[member];
    if (typeof memberValue !== 'string' || memberValue === '') return `a ${kty} key needs "${member}"`;
    if (member !== 'crv' && !BASE64URL.test(memberValue)) return `"${member}" of the JWK is not base64url`;
  }
  const curves = CURVES[kty];
  if (curves && !curves.includes(value.crv as string)) return `the curve of the ${kty} key is not supported (${curves.join(', ')})`;
  if (kty === 'RSA' && rsaModulusBits(value.n as string) < MIN_RSA_BITS) return `RSA keys need at least ${MIN_RSA_BITS} bits`;
  if (value.use !== undefined && value.use !== 'sig') return 'the JWK "use" must be "sig" when present';
  if (value.key_ops !== undefined && !(Array.isArray(value.key_ops) && value.key_ops.includes('verify'))) {
    return 'the JWK "key_ops" must include "verify" when present';
  }
  for (const member of ['kid', 'alg'] as const) {
    if (value[member] !== undefined && (typeof value[member] !== 'string' || value[member] === ''))
      return `the JWK "${member}" must be a non-empty string when present`;
  }
  return undefined;
}

/** Why `jwk` (already found public by publicJwkProblem) cannot check signatures made with `alg`. */
export function jwkAlgorithmProblem(jwk: JWK, alg: string): string | undefined {
  const needs = ASYMMETRIC_ALGORITHMS[alg];
  if (!needs) return `the algorithm ${alg} is not an asymmetric signature algorithm`;
  if (jwk.kty !== needs.kty || (needs.crv !== undefined && jwk.crv !== needs.crv)) {
    return `a ${jwk.kty}${jwk.crv ? ` ${jwk.crv}` : ''} key cannot check ${alg} signatures`;
  }
  if (jwk.alg !== undefined && jwk.alg !== alg && !bothEd25519(jwk.alg, alg)) return `the key is for ${jwk.alg}, not ${alg}`;
  return undefined;
}

/** EdDSA on an Ed25519 key is Ed25519, its fully specified name (RFC 9864 §2.2): a key for one checks the other. */
function bothEd25519(keyAlg: string, alg: string): boolean {
  return (keyAlg === 'EdDSA' || keyAlg === 'Ed25519') && (alg === 'EdDSA' || alg === 'Ed25519');
}

/** The algorithms of `algorithms` that this public key can check. */
export function algorithmsForJwk(jwk: JWK, algorithms: readonly string[]): string[] {
  return algorithms.filter((alg) => jwkAlgorithmProblem(jwk, alg) === undefined);
}

/** Only the members that describe the public key (and kid, alg, use when given): nothing else is kept. */
export function publicKeyMembers(jwk: JWK, options: { keepMetadata: boolean }): JWK {
  const source = jwk as Record<string, unknown>;
  const kept: Record<string, string> = { kty: String(jwk.kty) };
  const members = [...(PUBLIC_MEMBERS[String(jwk.kty)] ?? []), ...(options.keepMetadata ? ['kid', 'alg', 'use'] : [])];
  for (const member of members) {
    const value = source[member];
    if (typeof value === 'string') kept[member] = value;
  }
  return kept;
}

/** The public key of a JWK found public by publicJwkProblem; throws when its numbers do not form a key. */
export function importPublicJwk(jwk: JWK): KeyObject {
  return createPublicKey({ key: publicKeyMembers(jwk, { keepMetadata: false }) as JsonWebKey, format: 'jwk' });
}

/**
 * The RFC 7638 §3 thumbprint input: the required members in lexicographic order, no white space.
 * Two JWKs with the same input are the same public key.
 */
export function jwkThumbprintInput(jwk: JWK): string {
  switch (jwk.kty) {
    case 'RSA':
      return JSON.stringify({ e: jwk.e, kty: jwk.kty, n: jwk.n });
    case 'EC':
      return JSON.stringify({ crv: jwk.crv, kty: jwk.kty, x: jwk.x, y: jwk.y });
    case 'OKP':
      return JSON.stringify({ crv: jwk.crv, kty: jwk.kty, x: jwk.x });
    default:
      throw new Error(`no thumbprint for key type ${String(jwk.kty)}`);
  }
}

function rsaModulusBits(n: string): number {
  const bytes = Buffer.from(n, 'base64url');
  let index = 0;
  while (index < bytes.length && bytes[index] === 0) index++;
  if (index === bytes.length) return 0;
  return (bytes.length - index - 1) * 8 + (32 - Math.clz32(bytes[index] as number));
}
