import type { Middleware } from 'koa';
import type { Deps } from '../deps.js';
import { InvalidDpopProof, InvalidRequest, UnauthorizedClient, UnsupportedGrantType } from '../errors.js';
import { GRANT_TYPE_HANDLERS } from '../grant-types/index.js';
import { formParametersValidator } from '../lib/form-parameters.js';

/** Each grant's parameter schema, compiled once. */
const validators = new Map([...GRANT_TYPE_HANDLERS.values()].map((handler) => [handler.grantType, formParametersValidator(handler.parameters)]));

/**
 * Both claims, the client assertion's first: a replayed assertion is invalid_client whatever the
 * proof. Awaited on every path (handled here so that neither rejects unobserved meanwhile).
 */
function bothClaimed(assertion: Promise<void> | undefined, proof: Promise<void> | undefined): Promise<void> {
  const both = (assertion ?? Promise.resolve()).then(() => proof);
  both.catch(() => undefined);
  return both;
}

/** POST /token (RFC 6749 §3.2): picks the grant module; client auth has already run. */
export function tokenEndpoint(deps: Deps): Middleware {
  return async (ctx) => {
    const form = ctx.state.form ?? {};
    const client = ctx.state.client;
    if (!client) throw new Error('tokenEndpoint needs clientAuth first');
    const grantType = form.grant_type;
    if (grantType === undefined) throw new InvalidRequest('the parameter "grant_type" is required');
    const handler = GRANT_TYPE_HANDLERS.get(grantType);
    const validate = validators.get(grantType);
    if (!handler || !validate) throw new UnsupportedGrantType(`grant_type "${grantType.slice(0, 64)}" is not supported`);
    if (!client.grantTypes.includes(grantType)) throw new UnauthorizedClient(`this client may not use grant_type "${grantType}"`);
    const parameters = validate(form);
    // After client authentication, before the grant: a bad proof stores nothing (its jti aside); the
    // replay claims (the client assertion's, the proof's) run while the grant reads, and the grant
    // awaits them before it writes.
    const proof = await deps.dpop.verifyTokenRequest(ctx.req.headersDistinct.dpop);
    const replayChecked = bothClaimed(ctx.state.clientAssertionClaimed, proof?.claimed);
    let body;
    try {
      // RFC 9449 §5.2 names no error code; the proof is what is missing (node-oidc-provider says invalid_grant).
      if (!proof && client.dpopBoundAccessTokens) {
        throw new InvalidDpopProof('this client must send a DPoP proof with every token request (dpop_bound_access_tokens)');
      }
      body = await handler.handle(deps, client, parameters, { ip: ctx.ip, resources: ctx.state.resources ?? [], dpop: proof, replayChecked });
    } finally {
      // Every grant awaited it before storing anything. A replay is answered as one whatever else
      // failed (a rejection here replaces the grant's error), and never with tokens.
      await replayChecked;
    }
    ctx.body = body;
    deps.metrics.tokensIssued.inc({ grant_type: grantType });
  };
}
