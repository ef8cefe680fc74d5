import type { Middleware } from 'koa';
import type { Deps } from '../deps.js';
import { UnsupportedTokenType } from '../errors.js';
import { formParametersValidator, type FormParametersSchema } from '../http/form-parameters.js';
import { revokeClientToken } from '../services/token-revocation.js';

const TOKEN_TYPE_HINTS = ['access_token', 'refresh_token'] as const;

/** RFC 7009 §2.1 parameters (client authentication parameters come on top). */
export const tokenRevocationRequestSchema = {
  type: 'object',
  required: ['token'],
  properties: {
    token: { type: 'string', minLength: 1, maxLength: 16384, description: 'The access token or refresh token to revoke.' },
    token_type_hint: { type: 'string', description: 'access_token or refresh_token; any other value is answered with unsupported_token_type.' },
  },
} as const satisfies FormParametersSchema;

const validateRevocation = formParametersValidator<{ token: string; token_type_hint?: string }>(tokenRevocationRequestSchema);

/** POST /revoke (RFC 7009): 200 whether or not the token was known (§2.2). */
export function revokeEndpoint(deps: Deps): Middleware {
  return async (ctx) => {
    const client = ctx.state.client;
    if (!client) throw new Error('revokeEndpoint needs clientAuth first');
    const form = validateRevocation(ctx.state.form ?? {});
    const hint = form.token_type_hint;
    if (hint !== undefined && !(TOKEN_TYPE_HINTS as readonly string[]).includes(hint)) {
      throw new UnsupportedTokenType(`token_type_hint "${hint.slice(0, 64)}" is not supported`);
    }
    if (await revokeClientToken(deps, client, form.token, hint as (typeof TOKEN_TYPE_HINTS)[number] | undefined)) {
      deps.metrics.revocations.inc({ source: 'rfc7009' });
    }
    ctx.status = 200;
    ctx.body = '';
  };
}
