import { bodyParser } from '@koa/bodyparser';
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import type { Middleware } from 'koa';
import { InvalidRequest, PayloadTooLarge, UnsupportedMediaType } from '../errors.js';

export const JSON_BODY_LIMIT = '16kb';

const parse = bodyParser({ enableTypes: ['json'], jsonLimit: JSON_BODY_LIMIT, encoding: 'utf-8' });

/**
 * True when a string anywhere in `value` (keys included) holds `character`. Iterative: a deeply
 * nested body must not overflow the stack.
 */
function containsCharacter(value: unknown, character: string): boolean {
  const pending: unknown[] = [value];
  while (pending.length > 0) {
    const item = pending.pop();
    if (typeof item === 'string') {
      if (item.includes(character)) return true;
    } else if (item !== null && typeof item === 'object') {
      for (const [key, child] of Object.entries(item)) {
        if (key.includes(character)) return true;
        pending.push(child);
      }
    }
  }
  return false;
}

/** True when a string anywhere in `value` (keys included) holds NUL, which PostgreSQL cannot store and refuses in a query parameter. */
export function containsNul(value: unknown): boolean {
  return containsCharacter(value, '\u0000');
}

/**
 * True when a string anywhere in `value` holds U+FFFD, what bytes that are not UTF-8 decode to (in
 * a body, a query string or a path). Refused like the form endpoints refuse it: such input was
 * damaged on the way, and stored it would stay damaged.
 */
function containsReplacementCharacter(value: unknown): boolean {
  return containsCharacter(value, '\uFFFD');
}

/** The charset of a JSON body: absent or UTF-8 (RFC 8259 §8.1: JSON exchanged between systems is UTF-8). */
function declaresOtherCharset(contentType: string): boolean {
  const charset = /;\s*charset\s*=\s*"?([^";\s]*)/i.exec(contentType)?.[1];
  return charset !== undefined && !/^utf-?8$/i.test(charset);
}

/**
 * application/json bodies for the admin API; an empty body reads as {}. Result in ctx.request.body.
 * Admin input carrying NUL, or bytes that are not UTF-8 (body, query string or path), is refused
 * before any query; so is a body declared in another charset (415). /token, /introspect and
 * /revoke refuse both in their forms the same way, so a password that could never be used to sign
 * in is never stored either.
 */
export const jsonBody: Middleware = async (ctx, next) => {
  const params = (ctx as { params?: unknown }).params;
  if (containsNul(ctx.query) || containsNul(params)) throw new InvalidRequest('the request URL contains a NUL character');
  if (containsReplacementCharacter(ctx.query) || containsReplacementCharacter(params)) {
    throw new InvalidRequest('the request URL contains bytes that are not UTF-8');
  }
  const hasBody = ctx.request.length !== undefined ? ctx.request.length > 0 : Boolean(ctx.get('Transfer-Encoding'));
  if (!hasBody) {
    (ctx.request as unknown as { body: unknown }).body = {};
    await next();
    return;
  }
  if (!ctx.is('application/json')) throw new UnsupportedMediaType('application/json');
  if (declaresOtherCharset(ctx.get('Content-Type'))) throw new UnsupportedMediaType('application/json in UTF-8');
  try {
    await parse(ctx, async () => undefined);
  } catch (error) {
    if ((error as { status?: number }).status === 413) throw new PayloadTooLarge();
    throw new InvalidRequest('the request body is not valid JSON');
  }
  if (containsNul(ctx.request.body)) throw new InvalidRequest('the request body contains a NUL character');
  if (containsReplacementCharacter(ctx.request.body)) throw new InvalidRequest('the request body is not valid UTF-8');
  await next();
};

const ajv = new Ajv({ allErrors: false, strict: true });

function describe(error: ErrorObject | undefined, where: string): string {
  if (!error) return `invalid ${where}`;
  const path = error.instancePath.replace(/^\//, '').replace(/\//g, '.');
  const field = (name: string): string => (path ? `${path}.${name}` : name);
  switch (error.keyword) {
    case 'additionalProperties':
      return `unknown field "${field((error.params as { additionalProperty: string }).additionalProperty)}"`;
    case 'required':
      return `the field "${field((error.params as { missingProperty: string }).missingProperty)}" is required`;
    default:
      return path ? `the field "${path}" ${error.message ?? 'is invalid'}` : `${where} ${error.message ?? 'is invalid'}`;
  }
}

/** Compiles a JSON Schema once; the returned function throws InvalidRequest naming the field. */
export function schemaValidator<T>(schema: object, where = 'the request body'): (value: unknown) => T {
  const validate: ValidateFunction = ajv.compile(schema);
  return (value) => {
    if (!validate(value)) throw new InvalidRequest(describe(validate.errors?.[0], where));
    return value as T;
  };
}
