import { CreditRequest } from '@flashdrop/contracts';
import { checkMessage, currency, int, text } from '../rpc/message-check';

/** A credit message, checked by hand like a debit (rpc/message-check.ts). */
export function parseCreditMessage(message: unknown): CreditRequest {
  return checkMessage<CreditRequest>(message, {
    fanId: text(1, 128),
    amountMinor: int(1, 1e12),
    currency,
    reference: text(1, 64),
  });
}
