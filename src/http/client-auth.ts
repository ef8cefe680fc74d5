import type { Middleware } from 'koa';
import { authorizationHeader } from './authorization-header.js';
import type { Logger } from 'pino';
import { InvalidClient, InvalidRequest } from '../errors.js';
import type { Client } from '../store/clients-repository.js';
import type { PresentedClientAssertion } from '../client-assertions/verify-client-assertion.js';
import type { ClientAssertionAuthentication } from '../services/client-assertion-authentication.js';
import type { ClientAuthentication, PresentedCredentials } from '../services/client-authentication.js';
import type { Throttle } from '../services/throttle.js';

export type ClientAuthMethod = 'client_secret_basic' | 'client_secret_post' | 'none' | 'private_key_jwt';

declare module 'koa' {
  interface DefaultState {
    client?: Client;
    clientAuthMethod?: ClientAuthMethod;
    /**
     * On a route with `deferredReplayCheck`, for a client that authenticated with an assertion: the
     * claim of its jti, still under way. Resolves when this is the assertion's first use; rejects
     * with invalid_client (counted against the address) on a replay. Await it before storing anything.
     */
    clientAssertionClaimed?: Promise<void>;
  }
}

/** RFC 6749 §2.3.1: id and secret are form-urlencoded before they go into Basic. */
function formDecode(value: string): string {
  return decodeURIComponent(value.replace(/\+/g, ' '));
}

export function parseBasicCredentials(header: string): PresentedCredentials {
  const match = /^Basic[ ]+([A-Za-z0-9+/=_-]+)\s*$/i.exec(header);
  if (!match?.[1]) throw new InvalidClient('malformed Basic authorization header', true);
  const decoded = Buffer.from(match[1], 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 1) throw new InvalidClient('malformed Basic authorization header', true);
  let credentials: { clientId: string; secret: string };
  try {
    credentials = { clientId: formDecode(decoded.slice(0, colon)), secret: formDecode(decoded.slice(colon + 1)) };
  } catch {
    throw new InvalidClient('malformed Basic authorization header', true);
  }
  // NUL, as in form bodies: no client has it, and PostgreSQL refuses it in a query parameter.
  if (credentials.clientId.includes('\u0000') || credentials.secret.includes('\u0000')) {
    throw new InvalidClient('malformed Basic authorization header', true);
  }
  return credentials;
}

/** Which method the request uses, and the credentials it presents; no database access. */
export function presentedClientCredentials(
  authorization: string | undefined,
  form: Record<string, string>,
): { method: ClientAuthMethod; credentials: PresentedCredentials } | undefined {
  const usesBasic = authorization !== undefined && /^basic\b/i.test(authorization.trim());
  const postedId = form.client_id;
  const postedSecret = form.client_secret;
  if (usesBasic) {
    if (postedSecret !== undefined) throw new InvalidRequest('use one client authentication method, not Basic and client_secret together');
    const credentials = parseBasicCredentials(authorization.trim());
    if (postedId !== undefined && postedId !== credentials.clientId) {
      throw new InvalidRequest('client_id in the body differs from the one in the Authorization header');
    }
    return { method: 'client_secret_basic', credentials };
  }
  if (postedId === undefined) {
    if (postedSecret !== undefined) throw new InvalidRequest('client_secret without client_id');
    return undefined;
  }
  if (postedSecret !== undefined) return { method: 'client_secret_post', credentials: { clientId: postedId, secret: postedSecret } };
  return { method: 'none', credentials: { clientId: postedId } };
}

/**
 * RFC 7521 §4.2 / RFC 7523 §2.2: client_assertion_type and client_assertion, with client_id
 * optional. Undefined when the request carries neither; one without the other is left to the
 * assertion check (invalid_client). With Basic or client_secret as well: two methods, invalid_request.
 */
export function presentedClientAssertion(
  authorization: string | undefined,
  form: Record<string, string>,
): (PresentedClientAssertion & { clientId: string | undefined }) | undefined {
  if (form.client_assertion === undefined && form.client_assertion_type === undefined) return undefined;
  const usesBasic = authorization !== undefined && /^basic\b/i.test(authorization.trim());
  if (usesBasic || form.client_secret !== undefined)
    throw new InvalidRequest('use one client authentication method, not a client assertion and a secret together');
  return { assertionType: form.client_assertion_type, assertion: form.client_assertion, clientId: form.client_id };
}

/**
 * Authenticates the client of /token, /introspect and /revoke (client_secret_basic,
 * client_secret_post, private_key_jwt, or none for public clients). Needs ctx.state.form. Sets
 * ctx.state.client. `deferredReplayCheck`: the route awaits ctx.state.clientAssertionClaimed before
 * it stores anything, so an assertion's replay claim may still be under way when it starts.
 */
export function clientAuth(
  deps: { clientAuthentication: ClientAuthentication; clientAssertions: ClientAssertionAuthentication; throttle: Throttle; logger: Logger },
  options: { allowPublic: boolean; deferredReplayCheck?: boolean },
): Middleware {
  return async (ctx, next) => {
    const authorization = authorizationHeader(ctx);
    const assertion = presentedClientAssertion(authorization, ctx.state.form ?? {});
    if (assertion) {
      // A valid assertion is no guess (it is signed with the client's key), so it does not ask the
      // address's count of failed client authentications first, which would cost a database read
      // per request. A refused one does: past the address's budget it is answered 429, as a wrong
      // secret is; otherwise it counts against the address and answers exactly as an unknown client.
      const refuse = async (reason: string): Promise<never> => {
        deps.logger.debug({ reason }, 'client assertion refused');
        await deps.throttle.assertClientAuthenticationAllowed(ctx.ip);
        await deps.throttle.clientAuthenticationFailed(ctx.ip);
        throw new InvalidClient('client authentication failed');
      };
      const outcome = await deps.clientAssertions.verify(assertion);
      if (!outcome.client) return refuse(outcome.reason);
      const claimed = outcome.firstUse.then((first) => (first ? undefined : refuse('the assertion jti was used before (replay)')));
      ctx.state.client = outcome.client;
      ctx.state.clientAuthMethod = 'private_key_jwt';
      if (!options.deferredReplayCheck) {
        await claimed;
        await next();
        return;
      }
      // The route's work overlaps the claim's round trip. A replay is answered as one whatever else
      // failed (a rejection in finally replaces the route's error), and never with what the route made.
      claimed.catch(() => undefined);
      ctx.state.clientAssertionClaimed = claimed;
      try {
        await next();
      } finally {
        await claimed;
      }
      return;
    }
    const presented = presentedClientCredentials(authorization, ctx.state.form ?? {});
    if (!presented) throw new InvalidClient('client authentication is required');
    const basicTried = presented.method === 'client_secret_basic';
    // Guessing secrets from one address is capped (RATE_LIMIT_PER_IP / 5 failures a minute). Credentials
    // verified moments ago are no guess: only those that need a database lookup pass the gate.
    const remembered = deps.clientAuthentication.remembered(presented.credentials);
    if (!remembered) await deps.throttle.assertClientAuthenticationAllowed(ctx.ip);
    const client = remembered ?? (await deps.clientAuthentication.verify(presented.credentials));
    if (!client) {
      await deps.throttle.clientAuthenticationFailed(ctx.ip);
      throw new InvalidClient('client authentication failed', basicTried);
    }
    if (client.authMethod === 'none' && !options.allowPublic) {
      throw new InvalidClient('public clients may not use this endpoint', basicTried);
    }
    ctx.state.client = client;
    ctx.state.clientAuthMethod = presented.method;
    await next();
  };
}
