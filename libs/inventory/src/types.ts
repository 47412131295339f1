import { ErrorCode, ErrorDetail } from '@flashdrop/contracts';

/**
 * How a drop's units are handed out (API.md "Fair launch"): `first_come`, the rush; `draw`, a
 * seeded shuffle of the reservations at saleStartsAt, the losers waitlisted in shuffled order.
 */
export const Allocations = ['first_come', 'draw'] as const;
export type Allocation = (typeof Allocations)[number];

/** A drop's sale-relevant definition as mirrored into Redis; times are epoch milliseconds. */
export interface DropDefinition {
  readonly id: string;
  readonly brandId: string;
  readonly title: string;
  readonly sku: string;
  readonly priceMinor: number;
  readonly currency: string;
  readonly quantity: number;
  readonly perUserLimit: number;
  readonly reservationRequired: boolean;
  readonly reservationOpensAt?: number;
  readonly reservationClosesAt?: number;
  readonly saleStartsAt: number;
  readonly saleEndsAt?: number;
  readonly holdSeconds: number;
  readonly allocation: Allocation;
  /** Members-only: only fans whose token carries this tier may reserve, grab or queue. */
  readonly audienceTier?: string;
  /** Repost for a discount: what a fan who shared the drop saves per unit (absent or 0: none). */
  readonly shareDiscountMinor?: number;
  /**
   * Referral rewards: what the referrer of a fan who reserved with a referrerId earns per paid
   * order, from the brand's revenue (absent or 0: none). At most priceMinor - shareDiscountMinor.
   */
  readonly referralRewardMinor?: number;
  /**
   * How many stock buckets the drop's grabs are spread over (buckets.ts, docs/scale.md): 1 (or
   * absent) is the one-script grab; more splits admission over as many Redis slots. Fixed at
   * creation.
   */
  readonly stockBuckets?: number;
  /**
   * Group buy: every hold belongs to a group of this many members (2..50; absent: no groups);
   * a group not complete groupSeconds after it started fails (absent: 3600).
   */
  readonly groupSize?: number;
  readonly groupSeconds?: number;
  readonly paused: boolean;
  readonly cancelled: boolean;
  readonly createdAt: number;
  /** sales.drops' version of this definition (raised by every edit). */
  readonly version: number;
}

/** A drop as a picker lists it: the mirrored fields that name it (times as epoch ms). */
export interface DropSummary {
  readonly id: string;
  readonly title?: string;
  readonly brandId?: string;
  readonly quantity?: number;
  readonly createdAt?: number;
  readonly saleStartsAt?: number;
  readonly allocation: Allocation;
}

export const DropPhases = [
  'scheduled',
  'reservation_open',
  'reservation_closed',
  'on_sale',
  'paused',
  'sold_out',
  'ended',
  'cancelled',
] as const;
export type DropPhase = (typeof DropPhases)[number];

/** A drop as it stands now, by the sale clock (Redis TIME). */
export interface DropState {
  readonly definition: DropDefinition;
  readonly phase: DropPhase;
  /** Units a fan could grab now. */
  readonly remaining: number;
  readonly reservations: number;
  /** Redis TIME, epoch ms, when this was read. */
  readonly now: number;
  /**
   * The version of an edit begun (begin_edit) but not yet mirrored: PostgreSQL may hold a newer
   * definition than this one, and the reader repairs the mirror from it.
   */
  readonly pendingEdit?: number;
}

/** The hold state machine (libs/inventory/README.md); `paying` shows as `held` to fans. */
export type HoldStatus =
  | 'held'
  | 'paying'
  | 'paid'
  | 'cancelled'
  | 'expired'
  /** A refund under way (the fence before the wallet moves the money back): shows as `paid`. */
  | 'refunding'
  | 'refunded'
  /** Group buy: paid into the drop's escrow, waiting for the group to complete (or fail). */
  | 'grouped';

/**
 * The statuses whose units the fan holds: they count against the per-fan limit and stay out of
 * stock (a hold, a payment in flight, paid, paid into a group's escrow, a refund under way), as
 * every script counts them (restore_orders.lua's `counts_for_fan`).
 */
const UNIT_HOLDING: ReadonlySet<HoldStatus> = new Set<HoldStatus>([
  'held',
  'paying',
  'grouped',
  'paid',
  'refunding',
]);

/** Whether an order of this status holds its units (UNIT_HOLDING). */
export function holdsUnits(status: HoldStatus): boolean {
  return UNIT_HOLDING.has(status);
}

export interface InventoryOrder {
  readonly id: string;
  readonly dropId: string;
  readonly fanId: string;
  readonly quantity: number;
  readonly amountMinor: number;
  /** What one unit costs this order (amountMinor = unitPriceMinor x quantity). */
  readonly unitPriceMinor: number;
  /** The share discount of the whole order, decided by the step that made the hold. */
  readonly discountMinor: number;
  readonly currency: string;
  readonly status: HoldStatus;
  readonly createdAt: number;
  readonly expiresAt: number;
  readonly paidAt?: number;
  readonly payingUntil?: number;
  /** Refunds: why (the brand's or operator's words), and when it completed (epoch ms). */
  readonly refundReason?: string;
  readonly refundedAt?: number;
  /** When the refund under way began (a `refunding` order). */
  readonly refundingSince?: number;
  /** A backfilled hold: the released order its unit came from. */
  readonly fromOrderId?: string;
  /**
   * Referral rewards, decided by the step that made the hold: the fan's referrer (from their
   * reservation, never the fan) and what the referrer earns when this order is paid. Both
   * absent when there is no reward.
   */
  readonly referrerId?: string;
  readonly rewardMinor?: number;
  /** Group buy: the order's group, and when its payment reached the escrow. */
  readonly groupId?: string;
  readonly groupedAt?: number;
}

/** What a sync of PostgreSQL's definition into the mirror did (Inventory.syncDrop). */
export type SyncOutcome =
  | { readonly status: 'synced' }
  | { readonly status: 'missing' }
  | { readonly status: 'locked'; readonly running: DropDefinition };

export interface Refusal {
  readonly ok: false;
  readonly code: ErrorCode;
  readonly details?: readonly ErrorDetail[];
  /** The order as it stands, when the refusal concerns an existing order. */
  readonly order?: InventoryOrder;
}

export type Outcome<T> = { readonly ok: true; readonly value: T } | Refusal;

export interface GrabRequest {
  readonly dropId: string;
  readonly fanId: string;
  readonly quantity: number;
  readonly idempotencyKey?: string;
  /** The fan's membership tier (their token's `tier`), for a members-only drop. */
  readonly tier?: string;
  /** Group buy: the group to join (absent: the grab starts a new group on a group-buy drop). */
  readonly groupId?: string;
}

/** A group of a group-buy drop as Redis holds it (libs/inventory README "Group buy"). */
export interface InventoryGroup {
  readonly id: string;
  readonly dropId: string;
  readonly size: number;
  readonly members: number;
  readonly paidMembers: number;
  readonly startedAt: number;
  readonly expiresAt: number;
  readonly status: 'open' | 'completing' | 'complete' | 'failing' | 'failed';
}

/** fail_group's answer: what is left for the group's failure to do. */
export type GroupFailStep =
  | { readonly step: 'failing'; readonly grouped: readonly string[]; readonly paying: number }
  | { readonly step: 'open' }
  | { readonly step: 'done'; readonly status: string };

export type GrabOutcome =
  { readonly ok: true; readonly order: InventoryOrder; readonly replayed: boolean } | Refusal;

export interface Reservation {
  readonly dropId: string;
  readonly fanId: string;
  readonly reservedAt: number;
  readonly created: boolean;
}

export interface ExpirySweep {
  readonly expiredOrders: number;
  readonly unitsReturned: number;
  /** Orders looked at (the batch was full when this equals the batch size). */
  readonly scanned: number;
  /** `paying` orders past payingUntil: for the payment recovery to resolve. */
  readonly stalePaying: readonly string[];
  /** Live orders whose hash fails its check: left alone (and logged by the sweeper). */
  readonly badRecords: readonly string[];
}

/** The counters the scripts keep per drop (`{d:ID}:stats`), units unless said otherwise. */
export interface DropCounters {
  readonly held: number;
  readonly paid: number;
  readonly expired: number;
  readonly cancelled: number;
  readonly grabAttempts: number;
  readonly rejections: Readonly<Record<string, number>>;
  readonly shares: number;
  readonly referrals: number;
  /** Reservations without a referrer not yet announced (count_reservations.lua announces them). */
  readonly reservationsPending: number;
  /** Units refunded (their orders' paid units no longer count in `paid`). */
  readonly refunded: number;
  readonly revenueMinor: number;
  /** Share discounts of the paid orders (minor units): revenueMinor is already net of them. */
  readonly discountsMinor: number;
  /** Referral rewards paid with this drop's payments (minor units), net of refunded orders'. */
  readonly referralRewardsMinor: number;
  /** A draw's frozen entrants (fans; 0 before its commitment or on a first-come drop). */
  readonly entrants: number;
  /** Draw winners given a hold (fans). */
  readonly winners: number;
  /** Fans in line now. */
  readonly waitlisted: number;
  /** Units passed down the line as new holds. */
  readonly backfilled: number;
  readonly firstSaleAt?: number;
  readonly soldOutAt?: number;
}

/** A fan's place in a drop's waitlist (POST /v1/drops/:id/waitlist). */
export interface WaitlistPlace {
  /** 1 for the next fan to be served. */
  readonly position: number;
  /** False when the fan was already in line. */
  readonly created: boolean;
}

/** What a hand-down of parked units did (hand_down_parked.lua). */
export interface ParkedHandDown {
  readonly toFans: number;
  readonly toStock: number;
  /** Units still parked (the drop is paused again, or was never resumed). */
  readonly stillParked: number;
}

/** Where one fan stands in one drop, read in one step (standing.lua); times are epoch ms. */
export interface FanStanding {
  /** Redis TIME when read. */
  readonly now: number;
  readonly allocation: Allocation;
  readonly reserved: boolean;
  /** 1 for the next fan to be served; undefined when not in line. */
  readonly waitlistPosition?: number;
  /** When the draw was done (draw drops); undefined before. */
  readonly drawnAt?: number;
  /** Units in unpaid holds (and parked by a pause) that may still pass down the line. */
  readonly unitsPending: number;
  /** The earliest deadline among those holds. */
  readonly nextReleaseAt?: number;
  /** The fan's orders of this drop, newest first. */
  readonly orders: readonly InventoryOrder[];
}

/** Group buy: how long a group has to complete when the drop names no groupSeconds. */
export const DEFAULT_GROUP_SECONDS = 3600;
