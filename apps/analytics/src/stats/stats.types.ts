/** One bar of the sell-through chart: a second, or a bucket of seconds for a long sale. */
export interface SellThroughPoint {
  /** The bucket's start, ISO 8601 UTC. */
  readonly at: string;
  /** How many seconds the bucket covers (1 unless the sale is longer than the chart's points). */
  readonly seconds: number;
  /** Units grabbed (held) in the bucket. */
  readonly grabbed: number;
  /** Units paid in the bucket. */
  readonly paid: number;
}

/**
 * GET /v1/drops/:id/stats (docs/api.md "Operators"): the contract's fields first, units not orders,
 * then the fields the dashboard adds (the contract allows added fields).
 */
export interface DropStats {
  readonly dropId: string;
  readonly quantity: number;
  readonly remaining: number;
  readonly held: number;
  readonly paid: number;
  readonly expired: number;
  readonly cancelled: number;
  /** Units refunded; `paid` and `revenueMinor` are net of them (docs/api.md "Campaigns"). */
  readonly refunded: number;
  readonly reservations: number;
  /** Fair launch: a draw's entrants, its winners, fans in line now (fans), backfills (units). */
  readonly entrants: number;
  readonly winners: number;
  readonly waitlisted: number;
  readonly backfilled: number;
  readonly shares: number;
  readonly referrals: number;
  readonly grabAttempts: number;
  readonly rejections: Record<string, number>;
  readonly revenueMinor: number;
  /**
   * Referral rewards paid from this drop's revenue (docs/api.md "Campaigns"), net of the
   * refunded orders' rewards; revenueMinor is the payments', before rewards.
   */
  readonly referralRewardsMinor: number;
  readonly firstSaleAt: string | null;
  readonly soldOutAt: string | null;
  // Added for the dashboard.
  readonly currency: string | null;
  readonly priceMinor: number;
  /** The drop's phase now, by the sale clock (libs/inventory view_drop). */
  readonly phase: string | null;
  readonly title: string | null;
  readonly paused: boolean;
  readonly acceptedOrders: number;
  readonly paidOrders: number;
  /** Fans who ever joined the waitlist of a first-come drop (`waitlisted` counts those in line now). */
  readonly waitlistJoined: number;
  /** When the draw was done (draw drops). */
  readonly drawnAt: string | null;
  /** Debits of this drop's orders as the wallet reported them (its outbox): payments seen from the money side. */
  readonly walletDebits: number;
  readonly walletDebitedMinor: number;
  /** Refunded orders, and the wallet's refunds of this drop's orders as its outbox reported them. */
  readonly refundedOrders: number;
  /** Group buy: units paid into escrow waiting for their group, that escrow, and groups ended. */
  readonly grouped: number;
  readonly escrowMinor: number;
  readonly groupsCompleted: number;
  readonly groupsFailed: number;
  readonly walletRefunds: number;
  readonly walletRefundedMinor: number;
  readonly sharesByChannel: Record<string, number>;
  readonly topReferrers: readonly { referrerId: string; referrals: number }[];
  readonly sellThrough: readonly SellThroughPoint[];
  readonly lastEventAt: string | null;
  readonly generatedAt: string;
}
