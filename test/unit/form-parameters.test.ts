import { InvalidRequest } from '../../src/errors.js';
import { formParametersValidator, type FormParametersSchema } from '../../src/lib/form-parameters.js';

const schema = {
  type: 'object',
  required: ['token'],
  properties: {
    token: { type: 'string', minLength: 1, maxLength: 8 },
    hint: { type: 'string', minLength: 2, maxLength: 64 },
  },
} as const satisfies FormParametersSchema;

const validate = formParametersValidator(schema);
/** U+1F600: one character, two UTF-16 units. */
const EMOJI = '\u{1F600}';

function problem(form: Record<string, unknown>): string | undefined {
  try {
    validate(form as Record<string, string>);
    return undefined;
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidRequest);
    return (error as InvalidRequest).message;
  }
}

describe('formParametersValidator', () => {
  it('names a missing required parameter and a parameter that is not a string', () => {
    expect(problem({})).toBe('the parameter "token" is required');
    expect(problem({ token: ['a', 'b'] })).toBe('the parameter "token" must be string');
  });

  it('counts lengths in characters (code points) as JSON Schema does, a surrogate pair as one', () => {
    expect(problem({ token: EMOJI.repeat(8) })).toBeUndefined();
    expect(problem({ token: EMOJI.repeat(9) })).toBe('the parameter "token" must NOT have more than 8 characters');
    expect(problem({ token: 'a'.repeat(9) })).toBe('the parameter "token" must NOT have more than 8 characters');
    expect(problem({ token: '' })).toBe('the parameter "token" must NOT have fewer than 1 characters');
    expect(problem({ token: 'a', hint: EMOJI })).toBe('the parameter "hint" must NOT have fewer than 2 characters');
    expect(problem({ token: 'a', hint: `${EMOJI}${EMOJI}` })).toBeUndefined();
    expect(problem({ token: 'a', hint: 'ab' })).toBeUndefined();
  });

  it('ignores parameters it does not know and leaves the schema (shown in the OpenAPI document) as it was', () => {
    expect(validate({ token: 'abc', other: 'x'.repeat(100) })).toEqual({ token: 'abc', other: 'x'.repeat(100) });
    expect(schema.properties.token).toEqual({ type: 'string', minLength: 1, maxLength: 8 });
  });
});
