import type { Middleware } from 'koa';
import type { Deps } from '../deps.js';
import { formParametersValidator, type FormParametersSchema } from '../lib/form-parameters.js';
import { revokeClientToken } from '../services/token-revocation.js';

/** RFC 7009 §2.1 parameters (client authentication parameters come on top). */
export const tokenRevocationRequestSchema = {
  type: 'object',
  required: ['token'],
  properties: {
    token: { type: 'string', minLength: 1, maxLength: 16384, description: 'The access token or refresh token to revoke.' },
    token_type_hint: {
      type: 'string',
      description:
        'access_token or refresh_token: which kind is looked up first; other values are ignored (RFC 7009 §2.1) and the token is looked up as every kind.',
    },
  },
} as const satisfies FormParametersSchema;

const validateRevocation = formParametersValidator(tokenRevocationRequestSchema);

/** POST /revoke (RFC 7009): 200 whether or not the token was known (§2.2). */
export function revokeEndpoint(deps: Deps): Middleware {
  return async (ctx) => {
    const client = ctx.state.client;
    if (!client) throw new Error('revokeEndpoint needs clientAuth first');
    const form = validateRevocation(ctx.state.form ?? {});
    if (await revokeClientToken(deps, client, form.token, form.token_type_hint)) {
      deps.metrics.revocations.inc({ source: 'rfc7009' });
    }
    ctx.status = 200;
    ctx.body = '';
  };
}
