import { bodyParser } from '@koa/bodyparser';
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import type { Middleware } from 'koa';
import { InvalidRequest, PayloadTooLarge, UnsupportedMediaType } from '../errors.js';

export const JSON_BODY_LIMIT = '16kb';

const parse = bodyParser({ enableTypes: ['json'], jsonLimit: JSON_BODY_LIMIT, encoding: 'utf-8' });

/** application/json bodies for the admin API; an empty body reads as {}. Result in ctx.request.body. */
export const jsonBody: Middleware = async (ctx, next) => {
  const hasBody = ctx.request.length !== undefined ? ctx.request.length > 0 : Boolean(ctx.get('Transfer-Encoding'));
  if (!hasBody) {
    (ctx.request as unknown as { body: unknown }).body = {};
    return next();
  }
  if (!ctx.is('application/json')) throw new UnsupportedMediaType('application/json');
  try {
    await parse(ctx, async () => undefined);
  } catch (error) {
    if ((error as { status?: number }).status === 413) throw new PayloadTooLarge();
    throw new InvalidRequest('the request body is not valid JSON');
  }
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
