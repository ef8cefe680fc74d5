import type { Middleware } from 'koa';
import type { Deps } from '../deps.js';
import { formParametersValidator, type FormParametersSchema } from '../lib/form-parameters.js';
import { introspectToken } from '../services/introspection.js';

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

/** POST /introspect (RFC 7662): the caller has authenticated as a confidential client. */
export function introspectEndpoint(deps: Deps): Middleware {
  return async (ctx) => {
    const form = validateIntrospection(ctx.state.form ?? {});
    ctx.body = await introspectToken(deps, form.token, form.token_type_hint);
  };
}
