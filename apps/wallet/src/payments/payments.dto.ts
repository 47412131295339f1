import { IsInt, IsOptional, IsString, Max, Min, MaxLength, MinLength } from 'class-validator';
import {
  DebitRequest,
  DomainError,
  ErrorDetail,
  MAX_DEBITS_PER_MESSAGE,
  RefundRequest,
  ReleaseRequest,
  SettleRequest,
} from '@flashdrop/contracts';
import { currencyCode, integerIn, stringOfLength } from '@flashdrop/http';
import { checkMessage } from '../rpc/message-check';

/**
 * A debit message, checked by hand: the hot path of checkout (rpc/message-check.ts). A message
 * without the referral fields (a caller from before referral rewards) has no reward. A reward is
 * at most the payment and has a referrer who is not the payer; anything else is refused whole.
 */
export function parseDebitMessage(message: unknown): DebitRequest {
  const withDefaults =
    typeof message === 'object' && message !== null && !Array.isArray(message)
      ? { referrerId: '', rewardMinor: 0, escrow: false, ...message }
      : message;
  const debit = checkMessage<Required<DebitRequest>>(withDefaults, {
    orderId: stringOfLength(1, 200),
    attempt: integerIn(0, Number.MAX_SAFE_INTEGER),
    fanId: stringOfLength(1, 128),
    dropId: stringOfLength(1, 128),
    brandId: stringOfLength(1, 128),
    amountMinor: integerIn(1, 1e15),
    currency: currencyCode,
    referrerId: stringOfLength(0, 128),
    rewardMinor: integerIn(0, 1e15),
    escrow: (v) => (typeof v === 'boolean' ? undefined : 'escrow must be a boolean'),
  });
  const details: ErrorDetail[] = [];
  if (debit.rewardMinor > debit.amountMinor) {
    details.push({ field: 'rewardMinor', message: 'rewardMinor must be at most amountMinor' });
  }
  if (debit.rewardMinor > 0 !== (debit.referrerId !== '')) {
    details.push({ field: 'referrerId', message: 'a reward and its referrer come together' });
  }
  if (debit.escrow && debit.rewardMinor > 0) {
    details.push({ field: 'rewardMinor', message: "a group member's reward is paid on release" });
  }
  if (debit.referrerId === debit.fanId) {
    details.push({ field: 'referrerId', message: 'a fan never earns a reward for themself' });
  }
  if (details.length > 0) throw DomainError.invalid(details);
  return message as DebitRequest;
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

export class ReleaseMessage implements ReleaseRequest {
  @IsString() @MinLength(1) @MaxLength(200) readonly orderId!: string;
  @IsString() @MinLength(1) @MaxLength(128) readonly brandId!: string;
  @IsOptional() @IsString() @MaxLength(128) readonly referrerId?: string;
  @IsOptional() @IsInt() @Min(0) @Max(1e15) readonly rewardMinor?: number;
}

export class RefundMessage implements RefundRequest {
  @IsString() @MinLength(1) @MaxLength(200) readonly orderId!: string;
  @IsInt() @Min(0) readonly attempt!: number;
}

export class SettleMessage implements SettleRequest {
  @IsString() @MinLength(1) @MaxLength(200) readonly orderId!: string;
  @IsInt() @Min(0) readonly attempt!: number;
}
