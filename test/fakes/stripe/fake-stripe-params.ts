import { FormObject, FormValue } from './fake-stripe-form';
import { ApiResponse, invalidRequest } from './fake-stripe-responses';

/** A parameter problem, answered as Stripe's 400 invalid_request_error. */
export class ParamError extends Error {
  constructor(
    message: string,
    readonly code: string,
    readonly param: string,
  ) {
    super(message);
  }

  toResponse(): ApiResponse {
    return invalidRequest(this.message, this.code, this.param);
  }
}

export function optionalString(form: FormObject, name: string): string | undefined {
  const value = form[name];
  if (value === undefined || value === '') return undefined;
  if (typeof value !== 'string')
    throw new ParamError(`Invalid ${name}`, 'parameter_invalid_string', name);
  return value;
}

export function requiredString(form: FormObject, name: string): string {
  const value = optionalString(form, name);
  if (value === undefined) {
    throw new ParamError(`Missing required param: ${name}.`, 'parameter_missing', name);
  }
  return value;
}

export function optionalInteger(form: FormObject, name: string): number | undefined {
  const value = optionalString(form, name);
  if (value === undefined) return undefined;
  if (!/^\d+$/.test(value) || Number(value) < 1) {
    throw new ParamError(`Invalid integer: ${value}`, 'parameter_invalid_integer', name);
  }
  return Number(value);
}

export function requiredInteger(form: FormObject, name: string): number {
  const value = optionalInteger(form, name);
  if (value === undefined) {
    throw new ParamError(`Missing required param: ${name}.`, 'parameter_missing', name);
  }
  return value;
}

export function oneOf<T extends string>(
  form: FormObject,
  name: string,
  allowed: readonly T[],
  fallback: T,
): T {
  const value = optionalString(form, name);
  if (value === undefined) return fallback;
  if (!(allowed as readonly string[]).includes(value)) {
    throw new ParamError(
      `Invalid ${name}: must be one of ${allowed.join(', ')}`,
      'parameter_invalid_string',
      name,
    );
  }
  return value as T;
}

export function metadataOf(form: FormObject): Record<string, string> {
  const value: FormValue | undefined = form.metadata;
  if (value === undefined || value === '') return {};
  if (typeof value !== 'object' || Array.isArray(value)) {
    throw new ParamError('Invalid metadata', 'parameter_invalid_string', 'metadata');
  }
  return Object.fromEntries(
    Object.entries(value).map(([k, v]) => {
      if (typeof v !== 'string') {
        throw new ParamError(
          `Invalid metadata[${k}]`,
          'parameter_invalid_string',
          `metadata[${k}]`,
        );
      }
      return [k, v];
    }),
  );
}

export function stringList(form: FormObject, name: string): string[] | undefined {
  const value = form[name];
  if (value === undefined) return undefined;
  if (!Array.isArray(value) || value.some((v) => typeof v !== 'string')) {
    throw new ParamError(`Invalid array: ${name}`, 'parameter_invalid_array', name);
  }
  return value as string[];
}
