import type { Context } from 'koa';
import { InvalidRequest } from '../errors.js';

/**
 * The request's Authorization header, if it has one. Several are refused: the field is no list
 * (RFC 9110 §11.6.2), and Node would silently keep only the first, so a proxy that reads the last
 * and Gatehouse could disagree on who is asking.
 */
export function authorizationHeader(ctx: Context): string | undefined {
  const raw = ctx.req.rawHeaders;
  let seen = 0;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i] as string;
    if (name.length === 13 && name.toLowerCase() === 'authorization' && ++seen > 1) throw new InvalidRequest('send one Authorization header, not several');
  }
  return ctx.get('Authorization') || undefined;
}
