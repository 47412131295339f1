import { IsInt, IsString, Min, MaxLength, MinLength } from 'class-validator';
import {
  DebitRequest,
  DomainError,
  MAX_DEBITS_PER_MESSAGE,
  RefundRequest,
  SettleRequest,
} from '@flashdrop/contracts';
import { currencyCode, integerIn, stringOfLength } from '@flashdrop/http';
import { checkMessage } from '../rpc/message-check';

/** A debit message, checked by hand: the hot path of checkout (rpc/message-check.ts). */
export function parseDebitMessage(message: unknown): DebitRequest {
  return checkMessage<DebitRequest>(message, {
    orderId: stringOfLength(1, 200),
    attempt: integerIn(0, Number.MAX_SAFE_INTEGER),
    fanId: stringOfLength(1, 128),
    dropId: stringOfLength(1, 128),
    brandId: stringOfLength(1, 128),
    amountMinor: integerIn(1, 1e15),
    currency: currencyCode,
  });
}

/** A `debitMany` message: `{items: [...]}`, 1..MAX_DEBITS_PER_MESSAGE; items checked one by one. */
export function debitManyItems(message: unknown): unknown[] {
  const items = (message as { items?: unknown } | null)?.items;
  const fields = typeof message === 'object' && message !== null ? Object.keys(message) : [];
  if (
    !Array.isArray(items) ||
    items.length < 1 ||
    items.length > MAX_DEBITS_PER_MESSAGE ||
    fields.length !== 1
  ) {
    throw DomainError.invalid([
      { field: 'items', message: `must be the only field, 1..${MAX_DEBITS_PER_MESSAGE} debits` },
    ]);
  }
  return items;
}

export class RefundMessage implements RefundRequest {
  @IsString() @MinLength(1) @MaxLength(200) readonly orderId!: string;
}

export class SettleMessage implements SettleRequest {
  @IsString() @MinLength(1) @MaxLength(200) readonly orderId!: string;
  @IsInt() @Min(0) readonly attempt!: number;
}
