import { bodyParser } from '@koa/bodyparser';
import type { Middleware } from 'koa';
import { InvalidRequest, PayloadTooLarge } from '../errors.js';
import { formPairs } from '../lib/form-urlencoded.js';

export const FORM_BODY_LIMIT = '16kb';

// Read as text (limit, charset) without the body parser's own qs decoding: formPairs below is the
// one decoding of the body.
const parse = bodyParser({
  enableTypes: ['text'],
  extendTypes: { text: ['application/x-www-form-urlencoded'] },
  textLimit: FORM_BODY_LIMIT,
  encoding: 'utf-8',
});

declare module 'koa' {
  interface DefaultState {
    form?: Record<string, string>;
    /** Every `resource` parameter (RFC 8707 §2), in order; `form.resource` holds the first. */
    resources?: string[];
  }
}

/** The one parameter that may be repeated: a token for several resources (RFC 8707 §2). */
const REPEATABLE = 'resource';

/**
 * application/x-www-form-urlencoded only (RFC 6749 §3.2). The raw body is read by the body parser
 * (limit, charset) as text and decoded here as URLSearchParams does (formPairs), so every
 * parameter is a plain string and a repeated parameter is refused (RFC 6749 §3.1), except `resource` (RFC 8707 §2), whose values
 * go to ctx.state.resources. Result in ctx.state.form.
 */
export const formBody: Middleware = async (ctx, next) => {
  if (!ctx.is('application/x-www-form-urlencoded')) {
    throw new InvalidRequest('the request body must be application/x-www-form-urlencoded');
  }
  try {
    await parse(ctx, async () => undefined);
  } catch (error) {
    const status = (error as { status?: number }).status;
    if (status === 413) throw new PayloadTooLarge();
    throw new InvalidRequest('the request body could not be read as UTF-8 form data');
  }
  const raw = (ctx.request as unknown as { rawBody?: string }).rawBody ?? '';
  const form = Object.create(null) as Record<string, string>;
  const seen = new Set<string>();
  const resources: string[] = [];
  for (const [name, value] of formPairs(raw)) {
    if (seen.has(name) && name !== REPEATABLE) throw new InvalidRequest(`the parameter "${name}" is repeated`);
    if (/[\0\uFFFD]/.test(name) || /[\0\uFFFD]/.test(value)) {
      throw new InvalidRequest(`the parameter "${name.replace(/[^\x20-\x7E]/g, '?')}" contains invalid characters`);
    }
    seen.add(name);
    // RFC 6749 §3.1: parameters sent without a value are treated as omitted.
    if (value === '') continue;
    if (name === REPEATABLE) resources.push(value);
    form[name] ??= value;
  }
  ctx.state.form = form;
  ctx.state.resources = resources;
  await next();
};
