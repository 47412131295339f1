import { ErrorCode } from '@flashdrop/contracts';

/**
 * Every event type, its schema version and its data, in one place. Producers (the Lua scripts,
 * the API, the wallet's outbox) write exactly these shapes; consumers validate them.
 * A breaking change to a data shape is a new version, never an edit of an old one.
 *
 * Topic by type: `drop.*` -> Topics.drops; reservation, share, grab, hold, order, waitlist, draw,
 * units -> Topics.sales; `wallet.*` -> Topics.wallet. Key: the drop id (wallet events: the fan id).
 */
export interface EventCatalog {
  'drop.created': {
    dropId: string;
    brandId: string;
    quantity: number;
    priceMinor: number;
    currency: string;
  };
  'drop.updated': {
    dropId: string;
    brandId: string;
    quantity: number;
    priceMinor: number;
    currency: string;
  };
  'drop.phase_changed': { dropId: string; phase: string };
  'drop.paused': { dropId: string };
  'drop.resumed': { dropId: string };
  'drop.cancelled': { dropId: string };
  /**
   * A referred reservation, announced on its own (analytics counts referrals per referrer).
   * Reservations without a referrer are announced in aggregate: reservation.counted.
   */
  'reservation.created': { dropId: string; fanId: string; referrerId?: string };
  /** `count` reservations without a referrer, announced together (libs/inventory count_reservations.lua). */
  'reservation.counted': { dropId: string; count: number };
  'share.recorded': { dropId: string; fanId: string; channel: string };
  /**
   * `seq`: the order's number in the drop's allocation log (absent on events written before the
   * log existed: adding a field is not a breaking change).
   */
  'grab.accepted': {
    dropId: string;
    orderId: string;
    fanId: string;
    quantity: number;
    amountMinor: number;
    /** The share discount in amountMinor (campaigns; absent on events written before them). */
    discountMinor?: number;
    expiresAt: number;
    remaining: number;
    seq?: number;
  };
  /**
   * v2: `count` refusals of one code, reported together by the API process that answered them
   * (libs/inventory RefusalTally, every 250 ms); v1 was one event per refusal with its fanId.
   */
  'grab.rejected': { dropId: string; code: ErrorCode; count: number };
  'hold.expired': {
    dropId: string;
    orderId: string;
    fanId: string;
    quantity: number;
    remaining: number;
  };
  'hold.cancelled': {
    dropId: string;
    orderId: string;
    fanId: string;
    quantity: number;
    remaining: number;
  };
  /** A fan queued on a sold-out first-come drop; `position` 1 is the next fan served. */
  'waitlist.joined': { dropId: string; fanId: string; position: number };
  /**
   * A released unit of `fromOrderId` became a new 1-unit hold of the next fan in line (who left
   * the line): `seq` is its number in the allocation log.
   */
  'hold.backfilled': {
    dropId: string;
    orderId: string;
    fanId: string;
    quantity: number;
    amountMinor: number;
    discountMinor?: number;
    expiresAt: number;
    fromOrderId: string;
    seq: number;
    remaining: number;
  };
  /** Units parked during a pause that went back to stock at the resume (nobody in line). */
  'units.unparked': { dropId: string; quantity: number; remaining: number };
  /** A draw's seed is drawn and committed (its SHA-256 published) and its entrants frozen. */
  'draw.committed': {
    dropId: string;
    seedCommitment: string;
    entrants: number;
    entrantsDigest: string;
  };
  /** A draw winner's 1-unit hold; `rank` is their place in the shuffle (0 first). */
  'draw.won': {
    dropId: string;
    orderId: string;
    fanId: string;
    quantity: number;
    amountMinor: number;
    discountMinor?: number;
    expiresAt: number;
    seq: number;
    rank: number;
    remaining: number;
  };
  /** `count` of the draw's losers put in line, ranks `fromRank` onwards (one event per step). */
  'draw.waitlisted': { dropId: string; count: number; fromRank: number };
  /** The draw is done; the seed is revealed. */
  'draw.completed': { dropId: string; winners: number; waitlisted: number; seed: string };
  'order.paid': {
    dropId: string;
    orderId: string;
    fanId: string;
    quantity: number;
    amountMinor: number;
    discountMinor?: number;
    /**
     * Referral rewards (campaigns): the referrer this payment credited and how much, in the same
     * wallet transaction as the payment; both absent on an order without a reward.
     */
    referrerId?: string;
    rewardMinor?: number;
    /** Group buy: a completed group's member, paid from the drop's escrow (its amount). */
    escrowMinor?: number;
  };
  /**
   * A paid order refunded by its brand or an operator (docs/api.md "Campaigns"): the money is
   * back in the fan's wallet; its units went down the waitlist or back to stock (their own
   * hold.backfilled events follow). `remaining`: stock after the step.
   */
  'order.refunded': {
    dropId: string;
    orderId: string;
    fanId: string;
    quantity: number;
    amountMinor: number;
    reason: string;
    remaining: number;
    /** The order's referral reward (its reversal is the wallet's); absent when none. */
    rewardMinor?: number;
    /** Group buy: a failed group's member, refunded from the drop's escrow (its amount). */
    escrowMinor?: number;
  };
  /**
   * A payment began (begin_payment.lua: held -> paying, the fence before the wallet's debit):
   * `attempt` is the order's payingUntil, the attempt the wallet is asked to debit. Read by
   * order persistence, so that a drop Redis loses comes back with this same attempt in flight
   * (the payment recovery then settles it); an order.paid, order.grouped or hold.expired
   * follows, or nothing when the wallet declines and the order is held again.
   */
  'order.paying': { dropId: string; orderId: string; fanId: string; attempt: number };
  /**
   * A refund of a paid order began (begin_refund.lua: paid -> refunding, the fence before the
   * wallet's refund): `attempt` is the order's refundingSince, the attempt the wallet is asked.
   * Read by order persistence, so that a drop Redis loses comes back with the refund under way
   * (its recovery then finishes it); an order.refunded or order.refund_declined follows.
   */
  'order.refunding': { dropId: string; orderId: string; fanId: string; attempt: number };
  /**
   * The wallet declined the refund attempt (the brand's revenue cannot pay it): the order is
   * paid again, as if the refund had never begun (abort_refund.lua). Nothing moved.
   */
  'order.refund_declined': { dropId: string; orderId: string; fanId: string; attempt: number };
  /**
   * Group buy (docs/api.md "Campaigns"): a member's payment is in the drop's escrow; the order is
   * `grouped` until its group completes (every member order.paid) or fails (order.refunded).
   */
  'order.grouped': {
    dropId: string;
    orderId: string;
    fanId: string;
    quantity: number;
    amountMinor: number;
    groupId: string;
    paidMembers: number;
  };
  /** A group reached its size in paid members: every member's order is paid (one event each). */
  'group.completed': {
    dropId: string;
    groupId: string;
    size: number;
    members: number;
    amountMinor: number;
  };
  /**
   * A group ran out of time: its paid members were refunded (order.refunded each), its unpaid
   * holds expired (hold.expired each), every unit went down the line or back to stock.
   */
  'group.failed': {
    dropId: string;
    groupId: string;
    size: number;
    paidMembers: number;
    refundedMinor: number;
  };
  'wallet.credited': {
    fanId: string;
    amountMinor: number;
    reference: string;
    balanceMinor: number;
  };
  'wallet.debited': {
    fanId: string;
    orderId: string;
    dropId: string;
    amountMinor: number;
    balanceMinor: number;
  };
  /** An order's payment reversed: the refund transfer (revenue -> fan), written once per order. */
  'wallet.refunded': {
    fanId: string;
    orderId: string;
    dropId: string;
    amountMinor: number;
    balanceMinor: number;
  };
}

export type EventType = keyof EventCatalog;

/** Schema version of each type's data, as written in the envelope and the outbox entry. */
export const EventVersions: { readonly [T in EventType]: number } = {
  'drop.created': 1,
  'drop.updated': 1,
  'drop.phase_changed': 1,
  'drop.paused': 1,
  'drop.resumed': 1,
  'drop.cancelled': 1,
  'reservation.created': 1,
  'reservation.counted': 1,
  'share.recorded': 1,
  'grab.accepted': 1,
  'grab.rejected': 2,
  'hold.expired': 1,
  'hold.cancelled': 1,
  'waitlist.joined': 1,
  'hold.backfilled': 1,
  'units.unparked': 1,
  'draw.committed': 1,
  'draw.won': 1,
  'draw.waitlisted': 1,
  'draw.completed': 1,
  'order.paid': 1,
  'wallet.credited': 1,
  'wallet.debited': 1,
  'order.refunded': 1,
  'wallet.refunded': 1,
  'order.grouped': 1,
  'order.paying': 1,
  'order.refunding': 1,
  'order.refund_declined': 1,
  'group.completed': 1,
  'group.failed': 1,
};
