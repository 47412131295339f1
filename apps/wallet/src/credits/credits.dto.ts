import { CreditRequest } from '@flashdrop/contracts';
import { currencyCode, integerIn, stringOfLength } from '@flashdrop/http';
import { checkMessage } from '../rpc/message-check';

/** A credit message, checked by hand like a debit (rpc/message-check.ts). */
export function parseCreditMessage(message: unknown): CreditRequest {
  return checkMessage<CreditRequest>(message, {
    fanId: stringOfLength(1, 128),
    amountMinor: integerIn(1, 1e12),
    currency: currencyCode,
    reference: stringOfLength(1, 64),
  });
}
