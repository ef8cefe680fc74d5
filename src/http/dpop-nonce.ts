import type { Middleware } from 'koa';
import type { Deps } from '../deps.js';

/**
 * DPOP_NONCE (RFC 9449 §8.2): every answer of the token endpoint, errors included, carries a fresh
 * `DPoP-Nonce`, so a client always has the current one for its next proof.
 */
export function dpopNonceHeader(deps: Pick<Deps, 'dpop'>): Middleware {
  return async (ctx, next) => {
    const nonce = deps.dpop.currentNonce();
    if (nonce !== undefined) ctx.set('DPoP-Nonce', nonce);
    await next();
  };
}
