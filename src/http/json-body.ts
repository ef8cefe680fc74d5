import { bodyParser } from '@koa/bodyparser';
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import type { Middleware } from 'koa';
import { InvalidRequest, PayloadTooLarge, UnsupportedMediaType } from '../errors.js';

export const JSON_BODY_LIMIT = '16kb';

const parse = bodyParser({ enableTypes: ['json'], jsonLimit: JSON_BODY_LIMIT, encoding: 'utf-8' });

/**
 * Characters admin input may not hold: NUL, which PostgreSQL cannot store and refuses in a query
 * parameter; U+FFFD, what bytes that are not UTF-8 decode to (in a body, a query string or a
 * path); and half a surrogate pair, which JSON can escape but which is no character. The form
 * endpoints refuse these too: such input was damaged on the way, and stored it would stay damaged.
 */
const NUL = '\u0000';
const REPLACEMENT = '\uFFFD';

/** Half of a UTF-16 surrogate pair (JSON's `\ud800`): no character, and stored it turns into U+FFFD. */
const LONE_SURROGATE = /\p{Surrogate}/u;

/** The first unusable character of `text` (NUL, U+FFFD or a lone surrogate), or undefined. */
const unusableIn = (text: string): string | undefined => (text.includes(NUL) ? NUL : text.includes(REPLACEMENT) ? REPLACEMENT : LONE_SURROGATE.exec(text)?.[0]);

/** What an unusable character found in the body says. */
function unusableInBody(character: string): string {
  if (character === NUL) return 'the request body contains a NUL character';
  if (character === REPLACEMENT) return 'the request body is not valid UTF-8';
  const codePoint = `U+${(character.codePointAt(0) as number).toString(16).toUpperCase()}`;
  return `the request body contains ${codePoint}, half of a surrogate pair and no character: it is not valid UTF-8`;
}

/**
 * The first unusable character in a string anywhere in `value` (keys included), or undefined.
 * Iterative: a deeply nested body must not overflow the stack.
 */
function unusableCharacterIn(value: unknown): string | undefined {
  const pending: unknown[] = [value];
  while (pending.length > 0) {
    const item = pending.pop();
    if (typeof item === 'string') {
      const found = unusableIn(item);
      if (found !== undefined) return found;
    } else if (item !== null && typeof item === 'object') {
      for (const [key, child] of Object.entries(item)) {
        const found = unusableIn(key);
        if (found !== undefined) return found;
        pending.push(child);
      }
    }
  }
  return undefined;
}

/** True when a string anywhere in `value` (keys included) holds NUL, U+FFFD or half a surrogate pair. */
export function containsUnusableCharacter(value: unknown): boolean {
  return unusableCharacterIn(value) !== undefined;
}

/** True when the (still percent-encoded) path has escapes that do not decode as UTF-8. */
function pathIsNotUtf8(path: string): boolean {
  if (!path.includes('%')) return false;
  try {
    decodeURIComponent(path);
    return false;
  } catch {
    return true;
  }
}

/** The charset of a JSON body: absent or UTF-8 (RFC 8259 §8.1: JSON exchanged between systems is UTF-8). */
function declaresOtherCharset(contentType: string): boolean {
  const charset = /;\s*charset\s*=\s*"?([^";\s]*)/i.exec(contentType)?.[1];
  return charset !== undefined && !/^utf-?8$/i.test(charset);
}

/**
 * application/json bodies for the admin API; an empty body reads as {}. Result in ctx.request.body.
 * Admin input carrying any of those characters (body, query string or path) is refused
 * before any query; so is a body declared in another charset (415). A password that could never
 * be used to sign in at /token is thus never stored either.
 */
export const jsonBody: Middleware = async (ctx, next) => {
  // The router leaves a path segment whose escapes are not UTF-8 (%FF) undecoded: look at the path itself.
  const inUrl = pathIsNotUtf8(ctx.path) ? REPLACEMENT : unusableCharacterIn([ctx.query, (ctx as { params?: unknown }).params]);
  if (inUrl !== undefined)
    throw new InvalidRequest(inUrl === NUL ? 'the request URL contains a NUL character' : 'the request URL contains bytes that are not UTF-8');
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
    // Strict parsing refuses a bare value (null, a string, a number) as it refuses broken JSON.
    throw new InvalidRequest('the request body is not a JSON object');
  }
  const inBody = unusableCharacterIn(ctx.request.body);
  if (inBody !== undefined) throw new InvalidRequest(unusableInBody(inBody));
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
