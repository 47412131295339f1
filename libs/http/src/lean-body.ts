import { ErrorBody, ErrorDetail } from '@flashdrop/contracts';

/** A field's rule: the message when the value breaks it, undefined when it is fine. */
export type FieldRule = (value: unknown, field: string) => string | undefined;

export function invalidRequest(details: ErrorDetail[]): ErrorBody {
  return { error: 'VALIDATION_FAILED', message: 'request is invalid', details };
}

export function isErrorBody(v: unknown): v is ErrorBody {
  return typeof v === 'object' && v !== null && 'error' in v;
}

/**
 * Checks a lean route's JSON body by hand (DESIGN.md "Performance": the global class-validator
 * pipe costs the hot path too much), with StrictValidationPipe's rules and 400 shape: an object
 * or nothing at all, no field without a rule, one detail per bad field. Absent fields are left
 * out of the result (callers apply their defaults).
 */
export function checkBody<T extends object>(
  body: unknown,
  rules: { readonly [K in keyof T]-?: FieldRule },
): Partial<T> | ErrorBody {
  if (body === undefined || body === null || body === '') return {};
  if (typeof body !== 'object' || Array.isArray(body)) {
    return invalidRequest([{ field: 'body', message: 'must be a JSON object' }]);
  }
  const details: ErrorDetail[] = [];
  for (const [field, value] of Object.entries(body)) {
    const rule = (rules as Record<string, FieldRule | undefined>)[field];
    const message = rule ? rule(value, field) : `property ${field} should not exist`;
    if (message !== undefined) details.push({ field, message });
  }
  return details.length > 0 ? invalidRequest(details) : (body as Partial<T>);
}

export function integerIn(min: number, max: number): FieldRule {
  return (v, field) =>
    typeof v === 'number' && Number.isInteger(v) && v >= min && v <= max
      ? undefined
      : `${field} must be an integer ${min}..${max}`;
}

export function stringOfLength(min: number, max: number): FieldRule {
  return (v, field) =>
    typeof v === 'string' && v.length >= min && v.length <= max
      ? undefined
      : `${field} must be a string of ${min}..${max} characters`;
}
