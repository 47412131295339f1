import { ErrorBody } from '@flashdrop/contracts';
import { checkBody, integerIn, invalidRequest, isErrorBody } from '@flashdrop/http';

/** The grab's body, `{"quantity"?: 1..perUserLimit}`; the drop's own limit is checked in Lua. */
export interface PurchaseBody {
  readonly quantity: number;
}

const MAX_QUANTITY = 100;
const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,128}$/;

/** The one-field body, checked by hand (libs/http `checkBody`); quantity defaults to 1. */
export function parsePurchaseBody(body: unknown): PurchaseBody | ErrorBody {
  const checked = checkBody<PurchaseBody>(body, { quantity: integerIn(1, MAX_QUANTITY) });
  return isErrorBody(checked) ? checked : { quantity: checked.quantity ?? 1 };
}

/** `Idempotency-Key`: absent, or 1..128 visible ASCII characters. */
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
