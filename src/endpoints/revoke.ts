import type { Middleware } from 'koa';
import type { Deps } from '../deps.js';
import { InvalidRequest, UnsupportedTokenType } from '../errors.js';
import { revokeClientToken } from '../services/token-revocation.js';

const TOKEN_TYPE_HINTS = ['access_token', 'refresh_token'] as const;

/** POST /revoke (RFC 7009): 200 whether or not the token was known (§2.2). */
export function revokeEndpoint(deps: Deps): Middleware {
  return async (ctx) => {
    const form = ctx.state.form ?? {};
    const client = ctx.state.client;
    if (!client) throw new Error('revokeEndpoint needs clientAuth first');
    if (form.token === undefined) throw new InvalidRequest('the parameter "token" is required');
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
