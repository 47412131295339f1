import { DomainError, ErrorDetail } from '@flashdrop/contracts';
import { DropDefinition } from '@flashdrop/inventory';
import { CreateDropDto } from './drop.dto';

/** A drop body with defaults applied and times as epoch ms: the mirrored definition's own fields. */
export type DropFields = Omit<
  DropDefinition,
  'id' | 'brandId' | 'paused' | 'cancelled' | 'createdAt'
>;

export const DROP_DEFAULTS = {
  currency: 'CNY',
  perUserLimit: 1,
  reservationRequired: true,
  holdSeconds: 600,
} as const;

const ms = (iso: string | undefined) => (iso === undefined ? undefined : Date.parse(iso));

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
    saleStartsAt: ms(dto.saleStartsAt)!,
    saleEndsAt: ms(dto.saleEndsAt),
    holdSeconds: dto.holdSeconds ?? DROP_DEFAULTS.holdSeconds,
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
    if (typeof v === 'string') (out as Record<string, number>)[key] = Date.parse(v);
  }
  return out;
}

/**
 * The rules between fields (docs/api.md "Drops"): a reservation window is required when
 * reservations are, and given whole; opens < closes <= saleStartsAt; saleEndsAt > saleStartsAt.
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
  if (details.length > 0) throw DomainError.invalid(details);
}
