import { DomainError, ErrorDetail, parseRfc3339 } from '@flashdrop/contracts';
import { DropDefinition } from '@flashdrop/inventory';
import { CreateDropDto } from './drop.dto';

/** A drop body with defaults applied and times as epoch ms: the mirrored definition's own fields. */
export type DropFields = Omit<
  DropDefinition,
  'id' | 'brandId' | 'paused' | 'cancelled' | 'createdAt' | 'version'
>;

export const DROP_DEFAULTS = {
  currency: 'CNY',
  perUserLimit: 1,
  reservationRequired: true,
  holdSeconds: 600,
  allocation: 'first_come',
  shareDiscountMinor: 0,
  referralRewardMinor: 0,
  stockBuckets: 1,
  groupSeconds: 3600,
} as const;

/**
 * The most a drop may be worth, priceMinor x quantity: what every counter of it (revenue in
 * Redis and in analytics, the JSON answers) holds exactly. 2^53 - 1 fen is 90 trillion CNY.
 */
export const MAX_DROP_VALUE_MINOR = Number.MAX_SAFE_INTEGER;

/** Epoch ms of a time field the DTO already checked (parseRfc3339 cannot fail on it then). */
function ms(time: string): number;
function ms(time: string | undefined): number | undefined;
function ms(time: string | undefined): number | undefined {
  if (time === undefined) return undefined;
  const parsed = parseRfc3339(time);
  if (parsed === undefined) {
    throw DomainError.invalid([{ field: 'time', message: `${time} is not an RFC 3339 date-time` }]);
  }
  return parsed;
}

/** Applies docs/api.md's defaults to a create body (field types already checked by the pipe). */
export function withDefaults(dto: CreateDropDto): DropFields {
  return {
    title: dto.title,
    sku: dto.sku,
    priceMinor: dto.priceMinor,
    currency: dto.currency ?? DROP_DEFAULTS.currency,
    quantity: dto.quantity,
    perUserLimit: dto.perUserLimit ?? DROP_DEFAULTS.perUserLimit,
    reservationRequired: dto.reservationRequired ?? DROP_DEFAULTS.reservationRequired,
    reservationOpensAt: ms(dto.reservationOpensAt),
    reservationClosesAt: ms(dto.reservationClosesAt),
    saleStartsAt: ms(dto.saleStartsAt),
    saleEndsAt: ms(dto.saleEndsAt),
    holdSeconds: dto.holdSeconds ?? DROP_DEFAULTS.holdSeconds,
    allocation: dto.allocation ?? DROP_DEFAULTS.allocation,
    ...(dto.audienceTier === undefined ? {} : { audienceTier: dto.audienceTier }),
    shareDiscountMinor: dto.shareDiscountMinor ?? DROP_DEFAULTS.shareDiscountMinor,
    referralRewardMinor: dto.referralRewardMinor ?? DROP_DEFAULTS.referralRewardMinor,
    stockBuckets: dto.stockBuckets ?? DROP_DEFAULTS.stockBuckets,
    ...(dto.groupSize === undefined ? {} : { groupSize: dto.groupSize }),
    ...(dto.groupSeconds === undefined && dto.groupSize === undefined
      ? {}
      : { groupSeconds: dto.groupSeconds ?? DROP_DEFAULTS.groupSeconds }),
  };
}

/** Times of a PATCH body as epoch ms, leaving out what it does not set. */
export function patchTimes(dto: Partial<Record<keyof DropFields, unknown>>) {
  const out: Partial<DropFields> = {};
  for (const key of [
    'reservationOpensAt',
    'reservationClosesAt',
    'saleStartsAt',
    'saleEndsAt',
  ] as const) {
    const v = dto[key];
    if (typeof v === 'string') (out as Record<string, number>)[key] = ms(v);
  }
  return out;
}

/**
 * The rules between fields (docs/api.md "Drops", "Fair launch"): a reservation window is
 * required when reservations are, and given whole; opens < closes <= saleStartsAt; saleEndsAt >
 * saleStartsAt; priceMinor x quantity at most MAX_DROP_VALUE_MINOR (so no sum a script keeps can
 * overflow, libs/inventory _lib.lua MAX_EXACT); a draw needs reservations (they are its entries).
 * A share discount is less than the price (docs/api.md \"Campaigns\": a discounted unit still
 * costs something); a referral reward is at most what a discounted unit costs, so the payment
 * of any order always covers its reward (it comes out of that payment's revenue). Stock buckets
 * are for the rush: a draw has none (docs/scale.md "Buckets"). A group-buy drop is first come
 * (a draw's winners are not groups), has one bucket (a member's seat and its unit are taken in
 * one step), and groupSeconds comes only with groupSize.
 * Throws 400 VALIDATION_FAILED with one detail per bad field.
 */
export function checkDropRules(d: DropFields): void {
  const details: ErrorDetail[] = [];
  const opens = d.reservationOpensAt;
  const closes = d.reservationClosesAt;
  if (opens === undefined && (d.reservationRequired || closes !== undefined)) {
    details.push({ field: 'reservationOpensAt', message: 'required with a reservation window' });
  }
  if (closes === undefined && (d.reservationRequired || opens !== undefined)) {
    details.push({ field: 'reservationClosesAt', message: 'required with a reservation window' });
  }
  if (opens !== undefined && closes !== undefined && opens >= closes) {
    details.push({
      field: 'reservationClosesAt',
      message: 'must be after reservationOpensAt',
    });
  } else if (closes !== undefined && closes > d.saleStartsAt) {
    details.push({ field: 'reservationClosesAt', message: 'must not be after saleStartsAt' });
  }
  if (d.saleEndsAt !== undefined && d.saleEndsAt <= d.saleStartsAt) {
    details.push({ field: 'saleEndsAt', message: 'must be after saleStartsAt' });
  }
  if (d.priceMinor * d.quantity > MAX_DROP_VALUE_MINOR) {
    details.push({
      field: 'quantity',
      message: `priceMinor x quantity must be at most ${MAX_DROP_VALUE_MINOR}`,
    });
  }
  // A draw never grabs, so it has nothing to spread (and its steps run in the drop's slot).
  if (d.allocation === 'draw' && (d.stockBuckets ?? 1) > 1) {
    details.push({ field: 'stockBuckets', message: 'must be 1 with allocation draw' });
  }
  if (d.allocation === 'draw' && !d.reservationRequired) {
    details.push({ field: 'allocation', message: 'a draw requires reservationRequired: true' });
  }
  if ((d.shareDiscountMinor ?? 0) >= d.priceMinor) {
    details.push({ field: 'shareDiscountMinor', message: 'must be less than priceMinor' });
  }
  if ((d.referralRewardMinor ?? 0) > d.priceMinor - (d.shareDiscountMinor ?? 0)) {
    details.push({
      field: 'referralRewardMinor',
      message: 'must be at most priceMinor - shareDiscountMinor',
    });
  }
  if (d.groupSize !== undefined && d.allocation === 'draw') {
    details.push({ field: 'groupSize', message: 'a draw drop cannot have groups' });
  }
  if (d.groupSize !== undefined && (d.stockBuckets ?? 1) > 1) {
    details.push({ field: 'stockBuckets', message: 'must be 1 on a group-buy drop' });
  }
  if (d.groupSize === undefined && d.groupSeconds !== undefined) {
    details.push({ field: 'groupSeconds', message: 'only with groupSize' });
  }
  if (details.length > 0) throw DomainError.invalid(details);
}
