import { DomainError } from '@flashdrop/contracts';

const MAX_ORDER_ID_LENGTH = 64;

/**
 * The `:id` path parameter: 1..64 characters, else 400. Checked by hand rather than through a
 * class-validator DTO: the payment route is on the hot path of the phone sale's 50,000
 * payments, and a DTO pass (plainToInstance + validate) cost ~7% of the API's CPU per payment.
 */
export function checkOrderId(id: string | undefined): string {
  if (typeof id === 'string' && id.length >= 1 && id.length <= MAX_ORDER_ID_LENGTH) return id;
  throw DomainError.invalid([
    { field: 'id', message: `id must be 1..${MAX_ORDER_ID_LENGTH} characters` },
  ]);
}
