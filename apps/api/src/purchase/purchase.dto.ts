import { ErrorBody, ErrorDetail } from '@flashdrop/contracts';

/** The grab's body, `{"quantity"?: 1..perUserLimit}`; the drop's own limit is checked in Lua. */
export interface PurchaseBody {
  readonly quantity: number;
}

const MAX_QUANTITY = 100;
const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,128}$/;

function invalid(details: ErrorDetail[]): ErrorBody {
  return { error: 'VALIDATION_FAILED', message: 'request is invalid', details };
}

/**
 * A direct check of the one-field body instead of the global class-validator pipe: the grab is
 * the hot path (DESIGN.md "Performance"). Same rules and the same error shape as the pipe:
 * unknown fields, wrong types and out-of-range values are 400 VALIDATION_FAILED.
 */
export function parsePurchaseBody(body: unknown): PurchaseBody | ErrorBody {
  if (body === undefined || body === null || body === '') return { quantity: 1 };
  if (typeof body !== 'object' || Array.isArray(body)) {
    return invalid([{ field: 'body', message: 'must be a JSON object' }]);
  }
  let quantity = 1;
  const details: ErrorDetail[] = [];
  for (const [field, value] of Object.entries(body)) {
    if (field !== 'quantity') {
      details.push({ field, message: `property ${field} should not exist` });
    } else if (
      typeof value !== 'number' ||
      !Number.isInteger(value) ||
      value < 1 ||
      value > MAX_QUANTITY
    ) {
      details.push({ field, message: `quantity must be an integer 1..${MAX_QUANTITY}` });
    } else {
      quantity = value;
    }
  }
  return details.length > 0 ? invalid(details) : { quantity };
}

/** `Idempotency-Key`: absent, or 1..128 visible ASCII characters. */
export function parseIdempotencyKey(
  header: string | string[] | undefined,
): string | undefined | ErrorBody {
  if (header === undefined) return undefined;
  const key = Array.isArray(header) ? header[0] : header;
  if (typeof key === 'string' && IDEMPOTENCY_KEY.test(key)) return key;
  return invalid([
    { field: 'Idempotency-Key', message: 'must be 1..128 visible ASCII characters' },
  ]);
}

export function isErrorBody(v: unknown): v is ErrorBody {
  return typeof v === 'object' && v !== null && 'error' in v;
}
