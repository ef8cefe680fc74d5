import { Ajv, type ValidateFunction } from 'ajv';
import { InvalidRequest } from '../errors.js';

const ajv = new Ajv({ allErrors: false, strict: true });

/** JSON Schema of an endpoint's form parameters; the same object goes into the OpenAPI document. */
export interface FormParametersSchema {
  type: 'object';
  required: readonly string[];
  properties: Readonly<Record<string, { type: 'string'; minLength?: number; maxLength?: number; description?: string }>>;
}

/**
 * The parameters a schema admits, as a type: every form parameter is a string; required ones are
 * present. Declare a schema `as const` (or `satisfies FormParametersSchema`) to get exact names.
 */
export type FormParameters<S extends FormParametersSchema> = { [K in S['required'][number]]: string } & {
  [K in Exclude<keyof S['properties'] & string, S['required'][number]>]?: string;
};

/**
 * Compiles the schema of a form body once; the returned function throws InvalidRequest naming the
 * parameter (RFC 6749 §5.2). Unknown parameters are left alone (RFC 6749 §3.1: ignored).
 */
export function formParametersValidator<S extends FormParametersSchema>(schema: S): (form: Record<string, string>) => FormParameters<S> {
  const validate: ValidateFunction = ajv.compile(schema);
  return (form) => {
    if (validate(form)) return form as FormParameters<S>;
    const error = validate.errors?.[0];
    if (error?.keyword === 'required') {
      throw new InvalidRequest(`the parameter "${(error.params as { missingProperty: string }).missingProperty}" is required`);
    }
    const name = error?.instancePath.replace(/^\//, '') ?? '';
    throw new InvalidRequest(name ? `the parameter "${name}" ${error?.message ?? 'is invalid'}` : 'invalid parameters');
  };
}
