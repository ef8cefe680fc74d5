import { bodyParser } from '@koa/bodyparser';
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import type { Middleware } from 'koa';
import { InvalidRequest, PayloadTooLarge, UnsupportedMediaType } from '../errors.js';

export const JSON_BODY_LIMIT = '16kb';

const parse = bodyParser({ enableTypes: ['json'], jsonLimit: JSON_BODY_LIMIT, encoding: 'utf-8' });

/**
 * True when a string anywhere in `value` (keys included) holds NUL, which PostgreSQL cannot store
 * and refuses in a query parameter. Iterative: a deeply nested body must not overflow the stack.
 */
export function containsNul(value: unknown): boolean {
  const pending: unknown[] = [value];
  while (pending.length > 0) {
    const item = pending.pop();
    if (typeof item === 'string') {
      if (item.includes('\u0000')) return true;
    } else if (item !== null && typeof item === 'object') {
      for (const [key, child] of Object.entries(item)) {
        if (key.includes('\u0000')) return true;
        pending.push(child);
      }
    }
  }
  return false;
}

/**
 * application/json bodies for the admin API; an empty body reads as {}. Result in ctx.request.body.
 * Admin input carrying NUL (body, query string or path) is refused before any query.
 */
export const jsonBody: Middleware = async (ctx, next) => {
  if (containsNul(ctx.query) || containsNul((ctx as { params?: unknown }).params)) {
    throw new InvalidRequest('the request URL contains a NUL character');
  }
  const hasBody = ctx.request.length !== undefined ? ctx.request.length > 0 : Boolean(ctx.get('Transfer-Encoding'));
  if (!hasBody) {
    (ctx.request as unknown as { body: unknown }).body = {};
    await next();
    return;
  }
  if (!ctx.is('application/json')) throw new UnsupportedMediaType('application/json');
  try {
    await parse(ctx, async () => undefined);
  } catch (error) {
    if ((error as { status?: number }).status === 413) throw new PayloadTooLarge();
    throw new InvalidRequest('the request body is not valid JSON');
  }
  if (containsNul(ctx.request.body)) throw new InvalidRequest('the request body contains a NUL character');
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
