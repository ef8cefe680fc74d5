import type { Middleware } from 'koa';
import type { Deps } from '../deps.js';
import { InvalidRequest } from '../errors.js';
import { introspectToken } from '../services/introspection.js';

/** POST /introspect (RFC 7662): the caller has authenticated as a confidential client. */
export function introspectEndpoint(deps: Deps): Middleware {
  return async (ctx) => {
    const form = ctx.state.form ?? {};
    if (form.token === undefined) throw new InvalidRequest('the parameter "token" is required');
    ctx.body = await introspectToken(deps, form.token, form.token_type_hint);
  };
}
