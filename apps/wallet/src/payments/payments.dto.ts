import { IsInt, IsString, Min, MaxLength, MinLength } from 'class-validator';
import { DebitRequest, SettleRequest } from '@flashdrop/contracts';
import { checkMessage, currency, int, text } from '../rpc/message-check';

/** A debit message, checked by hand: the hot path of checkout (rpc/message-check.ts). */
export function parseDebitMessage(message: unknown): DebitRequest {
  return checkMessage<DebitRequest>(message, {
    orderId: text(1, 200),
    attempt: int(0, Number.MAX_SAFE_INTEGER),
    fanId: text(1, 128),
    dropId: text(1, 128),
    brandId: text(1, 128),
    amountMinor: int(1, 1e15),
    currency,
  });
}

export class SettleMessage implements SettleRequest {
  @IsString() @MinLength(1) @MaxLength(200) readonly orderId!: string;
  @IsInt() @Min(0) readonly attempt!: number;
}
