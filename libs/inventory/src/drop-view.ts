import { Allocation, DEFAULT_GROUP_SECONDS, DropPhase, DropState } from './types';

/**
 * A drop as the public API shows it (docs/api.md "Drops"): the body's fields plus id, brandId,
 * phase... The drops routes answer it, and a webhook's `drop.sold_out` carries it.
 */
export interface DropView {
  readonly id: string;
  readonly brandId: string;
  readonly title: string;
  readonly sku: string;
  readonly priceMinor: number;
  readonly currency: string;
  readonly quantity: number;
  readonly perUserLimit: number;
  readonly reservationRequired: boolean;
  readonly reservationOpensAt?: string;
  readonly reservationClosesAt?: string;
  readonly saleStartsAt: string;
  readonly saleEndsAt?: string;
  readonly holdSeconds: number;
  readonly allocation: Allocation;
  /** Members-only drops: the tier a fan's token must carry. */
  readonly audienceTier?: string;
  readonly shareDiscountMinor: number;
  readonly referralRewardMinor: number;
  readonly stockBuckets: number;
  /** Group buy: the members a group needs, and the seconds it has (absent: no groups). */
  readonly groupSize?: number;
  readonly groupSeconds?: number;
  readonly phase: DropPhase;
  readonly remaining: number;
  readonly reservations: number;
  readonly createdAt: string;
}

const iso = (ms: number) => new Date(ms).toISOString();
const isoOpt = (ms: number | undefined) => (ms === undefined ? undefined : iso(ms));

export function toDropView(state: DropState): DropView {
  const d = state.definition;
  return {
    id: d.id,
    brandId: d.brandId,
    title: d.title,
    sku: d.sku,
    priceMinor: d.priceMinor,
    currency: d.currency,
    quantity: d.quantity,
    perUserLimit: d.perUserLimit,
    reservationRequired: d.reservationRequired,
    reservationOpensAt: isoOpt(d.reservationOpensAt),
    reservationClosesAt: isoOpt(d.reservationClosesAt),
    saleStartsAt: iso(d.saleStartsAt),
    saleEndsAt: isoOpt(d.saleEndsAt),
    holdSeconds: d.holdSeconds,
    allocation: d.allocation,
    audienceTier: d.audienceTier,
    shareDiscountMinor: d.shareDiscountMinor ?? 0,
    referralRewardMinor: d.referralRewardMinor ?? 0,
    stockBuckets: d.stockBuckets ?? 1,
    ...(d.groupSize === undefined
      ? {}
      : { groupSize: d.groupSize, groupSeconds: d.groupSeconds ?? DEFAULT_GROUP_SECONDS }),
    phase: state.phase,
    // A cancelled or ended drop has nothing a fan could grab.
    remaining: state.phase === 'cancelled' || state.phase === 'ended' ? 0 : state.remaining,
    reservations: state.reservations,
    createdAt: iso(d.createdAt),
  };
}
