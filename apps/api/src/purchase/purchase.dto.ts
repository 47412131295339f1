import { ErrorBody } from '@flashdrop/contracts';
import { checkBody, integerIn, isErrorBody, stringOfLength } from '@flashdrop/http';

/**
 * The grab's body, `{"quantity"?: 1..perUserLimit, "groupId"?: string}`; the drop's own limit,
 * and whether the drop has groups at all, are checked in Lua.
 */
export interface PurchaseBody {
  readonly quantity: number;
  /** Group buy: the group to join (absent: a grab on a group-buy drop starts a group). */
  readonly groupId?: string;
}

const MAX_QUANTITY = 100;

/** The body, checked by hand (libs/http `checkBody`); quantity defaults to 1. */
export function parsePurchaseBody(body: unknown): PurchaseBody | ErrorBody {
  const checked = checkBody<PurchaseBody>(body, {
    quantity: integerIn(1, MAX_QUANTITY),
    groupId: stringOfLength(1, 64),
  });
  if (isErrorBody(checked)) return checked;
  return checked.groupId === undefined
    ? { quantity: checked.quantity ?? 1 }
    : { quantity: checked.quantity ?? 1, groupId: checked.groupId };
}
