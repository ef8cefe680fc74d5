import type { JWK } from 'jose';
import { isJsonObject } from '../lib/jws.js';
import { algorithmsForJwk, importPublicJwk, privateJwkMember, publicJwkProblem, publicKeyMembers } from '../lib/jwk.js';
import { isLoopbackHost } from '../lib/loopback.js';

/** RFC 7523 client assertions are accepted with these algorithms only (`token_endpoint_auth_signing_alg_values_supported`). */
// Ed25519 is EdDSA's fully specified name (RFC 9864), which openid-client and oauth4webapi sign with.
export const CLIENT_ASSERTION_ALGORITHMS: readonly string[] = Object.freeze(['RS256', 'PS256', 'ES256', 'EdDSA', 'Ed25519']);

/** A client's JWK Set as stored: public signature keys only, each usable with a CLIENT_ASSERTION_ALGORITHMS entry. */
export interface ClientJwkSet {
  keys: JWK[];
}

/** Most keys a registered JWK Set may hold (a key in use, the next one, a spare). */
export const MAX_CLIENT_JWKS_KEYS = 10;
/** Most keys read from a jwks_uri answer; others beyond it are ignored. */
export const MAX_REMOTE_JWKS_KEYS = 100;
/** Largest JWK Set accepted, registered or fetched. */
export const MAX_JWKS_BYTES = 64 * 1024;
export const MAX_JWKS_URI_LENGTH = 2048;

export type ClientJwksCheck = { valid: true; jwks: ClientJwkSet } | { valid: false; problem: string };
export type JwksUriCheck = { valid: true; uri: string } | { valid: false; problem: string };

/** Why a public JWK (already checked by publicJwkProblem) cannot be used for client assertions. */
function clientKeyProblem(jwk: JWK): string | undefined {
  if (algorithmsForJwk(jwk, CLIENT_ASSERTION_ALGORITHMS).length === 0) {
    const kind = [`kty ${jwk.kty}`, ...(jwk.crv ? [`crv ${jwk.crv}`] : []), ...(jwk.alg ? [`alg ${jwk.alg}`] : [])].join(', ');
    return `the key (${kind}) cannot check any of ${CLIENT_ASSERTION_ALGORITHMS.join(', ')}`;
  }
  try {
    importPublicJwk(jwk);
  } catch {
    return 'the key is not a valid public key (its numbers do not form one)';
  }
  return undefined;
}

/**
 * Registration-time check of `--jwks` (or the admin API's `jwks`): a JWK Set whose every key is a
 * public signature key usable with RS256, PS256, ES256 or EdDSA, at most MAX_CLIENT_JWKS_KEYS of
 * them, key ids unique. What is stored keeps only the public members and kid, alg, use.
 */
export function checkClientJwks(value: unknown): ClientJwksCheck {
  if (!isJsonObject(value) || !Array.isArray(value.keys)) return { valid: false, problem: 'a JWK Set is a JSON object {"keys": [...]}' };
  if (value.keys.length === 0) return { valid: false, problem: 'the JWK Set holds no keys' };
  if (value.keys.length > MAX_CLIENT_JWKS_KEYS) return { valid: false, problem: `a client JWK Set holds at most ${MAX_CLIENT_JWKS_KEYS} keys` };
  const keys: JWK[] = [];
  const kids = new Set<string>();
  for (const [index, candidate] of value.keys.entries()) {
    const problem = publicJwkProblem(candidate) ?? clientKeyProblem(candidate as JWK);
    if (problem !== undefined) return { valid: false, problem: `keys[${index}]: ${problem}` };
    const jwk = candidate as JWK;
    if (jwk.kid !== undefined) {
      if (kids.has(jwk.kid)) return { valid: false, problem: `keys[${index}]: the kid is used by another key of the set` };
      kids.add(jwk.kid);
    }
    keys.push(publicKeyMembers(jwk, { keepMetadata: true }));
  }
  return { valid: true, jwks: { keys } };
}

/** `--jwks JSON`: parses and checks the text (at most MAX_JWKS_BYTES). */
export function parseClientJwks(text: string): ClientJwksCheck {
  if (Buffer.byteLength(text, 'utf8') > MAX_JWKS_BYTES) return { valid: false, problem: `a JWK Set is at most ${MAX_JWKS_BYTES} bytes` };
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { valid: false, problem: 'the JWK Set is not valid JSON' };
  }
  return checkClientJwks(value);
}

/**
 * Registration-time (and fetch-time) check of a `jwks_uri`: an absolute https URL, or http on a
 * loopback address (a client on the same machine, tests); no user information, no fragment.
 */
export function checkJwksUri(text: string): JwksUriCheck {
  if (text.length > MAX_JWKS_URI_LENGTH) return { valid: false, problem: `a jwks_uri is at most ${MAX_JWKS_URI_LENGTH} characters` };
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return { valid: false, problem: 'the jwks_uri is not an absolute URL' };
  }
  if (url.username !== '' || url.password !== '') return { valid: false, problem: 'the jwks_uri may not carry user information' };
  if (url.hash !== '' || text.includes('#')) return { valid: false, problem: 'the jwks_uri may not have a fragment' };
  if (url.protocol === 'https:') return { valid: true, uri: url.href };
  if (url.protocol === 'http:') {
    if (isLoopbackHost(url.hostname)) return { valid: true, uri: url.href };
    return { valid: false, problem: 'the jwks_uri must use https (http only on a loopback address)' };
  }
  return { valid: false, problem: 'the jwks_uri must be an https URL' };
}

/**
 * The usable keys of a JWK Set fetched from a jwks_uri. Unlike a registered set, keys that cannot
 * sign client assertions (encryption keys, other curves, other key types) are skipped, as a
 * published set often holds them; but a set that publishes private key material is refused whole.
 */
export function usableRemoteKeys(value: unknown): { keys: JWK[] } | { problem: string } {
  if (!isJsonObject(value) || !Array.isArray(value.keys)) return { problem: 'the jwks_uri did not answer a JWK Set ({"keys": [...]})' };
  const keys: JWK[] = [];
  for (const candidate of value.keys.slice(0, MAX_REMOTE_JWKS_KEYS)) {
    if (isJsonObject(candidate) && privateJwkMember(candidate) !== undefined) {
      return { problem: 'the jwks_uri publishes private or symmetric key material; its keys are not used' };
    }
    if (publicJwkProblem(candidate) !== undefined || clientKeyProblem(candidate as JWK) !== undefined) continue;
    keys.push(publicKeyMembers(candidate as JWK, { keepMetadata: true }));
  }
  if (keys.length === 0) return { problem: 'the jwks_uri JWK Set holds no key usable for client assertions' };
  return { keys };
}
