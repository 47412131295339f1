import { ErrorBody, ErrorDetail, ErrorMessages } from '@flashdrop/contracts';

/** A field's rule: the message when the value breaks it, undefined when it is fine. */
export type FieldRule = (value: unknown, field: string) => string | undefined;

export function invalidRequest(details: ErrorDetail[]): ErrorBody {
  return { error: 'VALIDATION_FAILED', message: ErrorMessages.VALIDATION_FAILED, details };
}

/** The detail for a field the route does not declare (the wording of class-validator's). */
export function unknownField(field: string): ErrorDetail {
  return { field, message: `property ${field} should not exist` };
}

export function isErrorBody(v: unknown): v is ErrorBody {
  return typeof v === 'object' && v !== null && 'error' in v;
}

/**
 * One detail per broken field of `record`, with StrictValidationPipe's rules (docs/architecture.md
 * "Performance": that pipe's pass costs a hot path too much): each field with a rule is checked,
 * every field without one is refused. `required: false` skips absent fields (an HTTP body's
 * optional fields); `true` checks them too (a wallet message, whose every field is required).
 * Fields are own fields on both sides (`Object.hasOwn`, never `in`): a body's `toString` or
 * `constructor` is an unknown field, not one every object inherits.
 */
export function fieldDetails<T extends object>(
  record: Record<string, unknown>,
  rules: { readonly [K in keyof T]-?: FieldRule },
  required: boolean,
): ErrorDetail[] {
  const details: ErrorDetail[] = [];
  for (const [field, rule] of Object.entries<FieldRule>(rules)) {
    const present = Object.hasOwn(record, field);
    if (!required && !present) continue;
    const message = rule(present ? record[field] : undefined, field);
    if (message !== undefined) details.push({ field, message });
  }
  for (const field of Object.keys(record)) {
    if (!Object.hasOwn(rules, field)) details.push(unknownField(field));
  }
  return details;
}

/**
 * Checks a lean route's JSON body by hand: an object or nothing at all, then `fieldDetails`.
 * Absent fields are left out of the result (callers apply their defaults).
 */
export function checkBody<T extends object>(
  body: unknown,
  rules: { readonly [K in keyof T]-?: FieldRule },
): Partial<T> | ErrorBody {
  if (body === undefined || body === null || body === '') return {};
  if (typeof body !== 'object' || Array.isArray(body)) {
    return invalidRequest([{ field: 'body', message: 'must be a JSON object' }]);
  }
  const details = fieldDetails<T>(body as Record<string, unknown>, rules, false);
  return details.length > 0 ? invalidRequest(details) : (body as Partial<T>);
}

const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,128}$/;

/** The `Idempotency-Key` header (grab, payment): absent, or 1..128 visible ASCII characters. */
export function parseIdempotencyKey(
  header: string | string[] | undefined,
): string | undefined | ErrorBody {
  if (header === undefined) return undefined;
  const key = Array.isArray(header) ? header[0] : header;
  if (typeof key === 'string' && IDEMPOTENCY_KEY.test(key)) return key;
  return invalidRequest([
    { field: 'Idempotency-Key', message: 'must be 1..128 visible ASCII characters' },
  ]);
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

/** An ISO 4217-shaped currency code: three capital letters. */
export const currencyCode: FieldRule = (v, field) =>
  typeof v === 'string' && /^[A-Z]{3}$/.test(v)
    ? undefined
    : `${field} must be three capital letters`;
