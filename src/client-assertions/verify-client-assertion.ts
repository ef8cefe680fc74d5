import type { KeyObject } from 'node:crypto';
import type { JWK } from 'jose';
import { importPublicJwk, jwkAlgorithmProblem } from '../lib/jwk.js';
import { decodeCompactJws, verifyCompactJwsSignature } from '../lib/jws.js';
import { CLIENT_ASSERTION_ALGORITHMS } from './client-jwks.js';
import { JwksUnavailable, type ClientKeys } from './client-keys.js';

/** RFC 7523 §2.2: the only `client_assertion_type` there is. */
export const CLIENT_ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
/** How far ahead of now an assertion's exp may be: an assertion is made for one request. */
export const CLIENT_ASSERTION_MAX_LIFETIME_SECONDS = 300;
/** Allowance for the client's clock on exp, nbf and iat. */
export const CLIENT_ASSERTION_CLOCK_SKEW_SECONDS = 5;
export const CLIENT_ASSERTION_MAX_LENGTH = 8192;
export const CLIENT_ASSERTION_MAX_JTI_LENGTH = 256;

/** What the request carried, as form parameters. */
export interface PresentedClientAssertion {
  assertionType: string | undefined;
  assertion: string | undefined;
}

export interface ClientAssertionContext {
  /** The client whose keys are given (found by client_id, or by the assertion's sub). */
  clientId: string;
  keys: ClientKeys;
  issuer: string;
  tokenEndpointUrl: string;
  now: Date;
  maxLifetimeSeconds?: number | undefined;
  clockSkewSeconds?: number | undefined;
  /** Turns a JWK into a key to verify with; default importPublicJwk (a cache may stand in). */
  importKey?: ((jwk: JWK) => KeyObject) | undefined;
  /** The presented assertion as decodeClientAssertion gave it, when the caller has decoded it already. */
  decoded?: DecodedClientAssertion | undefined;
}

/**
 * One outcome for every failure: the caller answers 401 invalid_client whatever the reason, and
 * logs `reason` (safe to log: it never holds the assertion) at debug level.
 */
export type ClientAssertionCheck =
  { valid: true; clientId: string; jti: string; /** Remember the jti against replay until then. */ acceptedUntil: Date } | { valid: false; reason: string };

class Rejected extends Error {}
function reject(reason: string): never {
  throw new Rejected(reason);
}

/** An assertion's header and payload, decoded and NOT verified (each undefined when not a JSON object). */
export type DecodedClientAssertion = NonNullable<ReturnType<typeof decodeCompactJws>>;

/**
 * Decodes an assertion once per request, for clientAssertionClientId and then verifyClientAssertion
 * (context.decoded). Undefined when it is longer than CLIENT_ASSERTION_MAX_LENGTH or not a compact JWS.
 */
export function decodeClientAssertion(assertion: string): DecodedClientAssertion | undefined {
  return assertion.length > CLIENT_ASSERTION_MAX_LENGTH ? undefined : decodeCompactJws(assertion);
}

/**
 * The client an assertion says it comes from (its `sub`, when `iss` agrees), read WITHOUT checking
 * anything: only to find whose keys to verify it with when the request has no client_id.
 */
export function clientAssertionClientId(decoded: DecodedClientAssertion | undefined): string | undefined {
  const payload = decoded?.payload;
  if (!payload || typeof payload.sub !== 'string' || payload.sub === '' || payload.iss !== payload.sub) return undefined;
  return payload.sub;
}

/** The key under which an assertion's jti is remembered (per client: RFC 7523 §3 item 7). */
export function clientAssertionReplayKey(clientId: string, jti: string): string {
  return JSON.stringify(['client_assertion', clientId, jti]);
}

/**
 * Checks a `private_key_jwt` client assertion (RFC 7523 §2.2 and §3, RFC 7521 §4.2): the assertion
 * type; a compact JWS signed with RS256, PS256, ES256 or EdDSA by a key of the client's set (a
 * jwks_uri is fetched again once when no key matches: key rollover); `iss` = `sub` = the client id;
 * `aud` naming the issuer or the token endpoint; `exp` in the future and at most
 * maxLifetimeSeconds ahead; `nbf` and `iat`, when present, not in the future; a `jti`. Claims are
 * checked before the signature, so that garbage never costs a key fetch. The jti is not checked
 * against replay here: the caller remembers clientAssertionReplayKey(...) until `acceptedUntil`.
 */
export async function verifyClientAssertion(presented: PresentedClientAssertion, context: ClientAssertionContext): Promise<ClientAssertionCheck> {
  try {
    return await check(presented, context);
  } catch (error) {
    if (error instanceof Rejected) return { valid: false, reason: error.message };
    if (error instanceof JwksUnavailable) return { valid: false, reason: `no keys for the client: ${error.message}` };
    throw error;
  }
}

async function check(presented: PresentedClientAssertion, context: ClientAssertionContext): Promise<ClientAssertionCheck> {
  if (presented.assertionType === undefined) reject('client_assertion_type is missing');
  if (presented.assertionType !== CLIENT_ASSERTION_TYPE) reject(`client_assertion_type is not ${CLIENT_ASSERTION_TYPE}`);
  const assertion = presented.assertion;
  if (assertion === undefined || assertion === '') reject('client_assertion is missing');
  if (assertion.length > CLIENT_ASSERTION_MAX_LENGTH) reject(`the client assertion is longer than ${CLIENT_ASSERTION_MAX_LENGTH} characters`);
  const parts = context.decoded ?? decodeCompactJws(assertion) ?? reject('the client assertion is not a compact JWS');
  const header = parts.header ?? reject('the client assertion header is not a JSON object');
  const claims = parts.payload ?? reject('the client assertion payload is not a JSON object');

  const alg = header.alg;
  if (typeof alg !== 'string') reject('the client assertion has no alg');
  if (alg === 'none') reject('the client assertion is unsigned (alg none)');
  if (/^HS/i.test(alg)) reject('the client assertion uses HMAC (HS*); only private_key_jwt algorithms are accepted');
  if (!CLIENT_ASSERTION_ALGORITHMS.includes(alg)) reject(`the client assertion alg is not one of ${CLIENT_ASSERTION_ALGORITHMS.join(', ')}`);
  // RFC 7515 §4.1.11: an extension we do not understand, marked critical, must be refused.
  if (header.crit !== undefined) reject('the client assertion has a crit header; no extensions are supported');
  const kid = header.kid;
  if (kid !== undefined && (typeof kid !== 'string' || kid === '')) reject('the client assertion kid is not a non-empty string');

  const { clientId } = context;
  if (claims.iss !== clientId) reject(typeof claims.iss === 'string' ? 'iss is not the client id' : 'iss is missing');
  if (claims.sub !== clientId) reject(typeof claims.sub === 'string' ? 'sub is not the client id' : 'sub is missing');
  const audiences =
    typeof claims.aud === 'string'
      ? [claims.aud]
      : Array.isArray(claims.aud) && claims.aud.every((aud) => typeof aud === 'string')
        ? claims.aud
        : reject('aud is missing (a string or an array of strings)');
  if (!audiences.includes(context.issuer) && !audiences.includes(context.tokenEndpointUrl)) reject('aud names neither the issuer nor the token endpoint');

  const now = context.now.getTime() / 1000;
  const skew = context.clockSkewSeconds ?? CLIENT_ASSERTION_CLOCK_SKEW_SECONDS;
  const maxLifetime = context.maxLifetimeSeconds ?? CLIENT_ASSERTION_MAX_LIFETIME_SECONDS;
  const exp = numericDate(claims.exp) ?? reject('exp is missing (a number of seconds)');
  if (exp + skew <= now) reject('the client assertion has expired');
  if (exp - now > maxLifetime) reject(`exp is more than ${maxLifetime} seconds ahead`);
  if (claims.nbf !== undefined) {
    const nbf = numericDate(claims.nbf) ?? reject('nbf is not a number of seconds');
    if (nbf - skew > now) reject('the client assertion is not valid yet (nbf)');
  }
  if (claims.iat !== undefined) {
    const iat = numericDate(claims.iat) ?? reject('iat is not a number of seconds');
    if (iat - skew > now) reject('iat is in the future');
    if (iat > exp) reject('iat is after exp');
  }
  const jti = claims.jti;
  if (typeof jti !== 'string' || jti === '') reject('jti is missing (a non-empty string)');
  if (jti.length > CLIENT_ASSERTION_MAX_JTI_LENGTH) reject(`jti is longer than ${CLIENT_ASSERTION_MAX_JTI_LENGTH} characters`);

  const selector = { alg, kid: typeof kid === 'string' ? kid : undefined };
  const importKey = context.importKey ?? importPublicJwk;
  let verified = await verifyWithAny(assertion, await context.keys.current(), selector, importKey);
  if (!verified) {
    // Perhaps the client rolled its keys over since its set was fetched.
    const refreshed = await context.keys.refetch();
    if (refreshed) verified = await verifyWithAny(assertion, refreshed, selector, importKey);
  }
  if (!verified)
    reject(kid === undefined ? 'the signature does not verify with any key of the client' : 'no key of the client with that kid verifies the signature');

  return { valid: true, clientId, jti, acceptedUntil: new Date((exp + skew) * 1000) };
}

/** True when one of the keys fit for alg (and kid, when given) verifies the signature. */
async function verifyWithAny(
  assertion: string,
  keys: readonly JWK[],
  selector: { alg: string; kid: string | undefined },
  importKey: (jwk: JWK) => KeyObject,
): Promise<boolean> {
  const candidates = keys.filter((jwk) => (selector.kid === undefined || jwk.kid === selector.kid) && jwkAlgorithmProblem(jwk, selector.alg) === undefined);
  for (const jwk of candidates) {
    try {
      if (await verifyCompactJwsSignature(assertion, importKey(jwk), selector.alg)) return true;
    } catch {
      // A key that does not import cannot have signed it; try the next one.
    }
  }
  return false;
}

function numericDate(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
}
