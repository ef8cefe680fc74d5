import type { Context, Middleware } from 'koa';
import type { Deps } from '../deps.js';
import { formParametersValidator, type FormParametersSchema } from '../lib/form-parameters.js';
import { introspectToken } from '../services/introspection.js';
import { JWT_INTROSPECTION_MEDIA_TYPE, signIntrospectionResponse } from '../tokens/introspection-response.js';

/** RFC 7662 §2.1 parameters (client authentication parameters come on top). */
export const introspectionRequestSchema = {
  type: 'object',
  required: ['token'],
  properties: {
    token: { type: 'string', minLength: 1, maxLength: 16384, description: 'The access token or refresh token to describe.' },
    token_type_hint: { type: 'string', description: 'access_token or refresh_token: which kind is looked up first; other values are ignored.' },
  },
} as const satisfies FormParametersSchema;

const validateIntrospection = formParametersValidator(introspectionRequestSchema);

/**
 * True when the caller prefers the RFC 9701 JWT answer to JSON: content negotiation (q-values, then
 * the order of the header) puts it ahead of application/json, which wins ties. Most callers send
 * neither that media type nor q-values (`application/json`, `*` + `/*`, nothing): they are answered
 * JSON without negotiating. One that refuses JSON (`application/json;q=0, *` + `/*`) gets the JWT.
 */
function wantsJwtAnswer(ctx: Context): boolean {
  const accept = ctx.get('Accept').toLowerCase();
  if (!accept.includes(JWT_INTROSPECTION_MEDIA_TYPE) && !accept.includes('q=')) return false;
  return ctx.accepts('application/json', JWT_INTROSPECTION_MEDIA_TYPE) === JWT_INTROSPECTION_MEDIA_TYPE;
}

/**
 * POST /introspect (RFC 7662): the caller has authenticated as a confidential client. When it
 * prefers `application/token-introspection+jwt` (Accept), the answer is a signed JWT (RFC 9701).
 */
export function introspectEndpoint(deps: Deps): Middleware {
  return async (ctx) => {
    const form = validateIntrospection(ctx.state.form ?? {});
    const introspection = await introspectToken(deps, form.token, form.token_type_hint);
    const client = ctx.state.client;
    ctx.vary('Accept');
    if (!client || !wantsJwtAnswer(ctx)) {
      ctx.body = introspection;
      return;
    }
    ctx.type = JWT_INTROSPECTION_MEDIA_TYPE;
    ctx.body = await signIntrospectionResponse(deps.keys.signingKey(), {
      issuer: deps.config.issuer,
      audience: client.id,
      now: deps.clock.now(),
      introspection,
    });
  };
}
