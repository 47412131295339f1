import { ErrorBody } from '@flashdrop/contracts';
import { checkBody, integerIn, isErrorBody } from '@flashdrop/http';

/** The grab's body, `{"quantity"?: 1..perUserLimit}`; the drop's own limit is checked in Lua. */
export interface PurchaseBody {
  readonly quantity: number;
}

const MAX_QUANTITY = 100;

/** The one-field body, checked by hand (libs/http `checkBody`); quantity defaults to 1. */
export function parsePurchaseBody(body: unknown): PurchaseBody | ErrorBody {
  const checked = checkBody<PurchaseBody>(body, { quantity: integerIn(1, MAX_QUANTITY) });
  return isErrorBody(checked) ? checked : { quantity: checked.quantity ?? 1 };
}
