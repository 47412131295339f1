import { DropDefinition, InventoryGroup, InventoryOrder, StoredSale } from '@flashdrop/inventory';

/**
 * The simulator's reference model of one drop: what the clients were told (acknowledged) and
 * what the money must be, kept apart from the stored truth it is checked against. Small on
 * purpose: the sale's own arithmetic is the audit's (libs/audit); the model adds what only a
 * client knows: which answers it got, what it credited, which debits it caused.
 */
export class SaleModel {
  /** Orders in the order the model learnt of them (grabbed, drawn, backfilled): picked by index. */
  readonly orderIds: string[] = [];
  /** Orders some client was answered 201/200 for: they must exist from then on (invariant 6). */
  readonly acknowledged = new Set<string>();
  /** Orders a client was answered `paid` for: they stay paid (invariant 6). */
  readonly paidAck = new Set<string>();
  /** Orders a client was answered `grouped` for (paid into a group's escrow): they stay paid. */
  readonly groupedAck = new Set<string>();
  /**
   * Money the wallet took, per order (amount): what the model expects the ledger to show. A
   * group member's payment went to the drop's escrow (`escrow`), not to the brand's revenue.
   */
  readonly debited = new Map<string, { fanId: string; amount: number; escrow: boolean }>();
  /** Group members whose escrow the wallet released to the brand's revenue (once each). */
  readonly released = new Set<string>();
  /**
   * The drop's groups as read after the last step (group buy), by id: a group's status only
   * goes forward (open -> completing -> complete, open -> failing -> failed).
   */
  readonly groups = new Map<string, InventoryGroup>();
  /** What each fan was credited (acknowledged credits; one reference counts once). */
  readonly credited = new Map<string, number>();
  /** Money a refund gave back, per order (its payment's fan and amount: once). */
  readonly refunded = new Map<string, { fanId: string; amount: number }>();
  /** Referral rewards the payments paid, per order (to the order's referrer). */
  readonly rewards = new Map<string, { referrerId: string; amount: number }>();
  /** What a refund took back of its order's reward (up to the referrer's balance then). */
  readonly reversals = new Map<string, { referrerId: string; amount: number }>();
  /** Orders whose refund was begun (paid -> refunding: it only goes forward from there). */
  readonly refundBegun = new Set<string>();
  /** Orders a refunder was answered `refunded` for: they stay refunded. */
  readonly refundedAck = new Set<string>();
  /** Each payment attempt's first answer from the wallet (`orderId@attempt`). */
  readonly attempts = new Map<string, string>();
  readonly reserved = new Set<string>();
  /** A fan's referrer, from their first reservation (never themselves): the reward's record. */
  readonly referrers = new Map<string, string>();
  /** Fans who shared the drop: their holds made after the share are discounted. */
  readonly shared = new Set<string>();
  /** The last sale read (after the previous step). */
  last?: StoredSale;
  creditSeq = 0;
  /** Steps run so far (a failure names its step). */
  steps = 0;

  constructor(
    readonly drop: DropDefinition,
    readonly fans: readonly string[],
    /** Each fan's membership tier (their token's), by index; undefined: none. */
    readonly tiers: readonly (string | undefined)[] = [],
  ) {}

  /**
   * An order by a drawn index: an even index picks among the orders live after the last step
   * (held or paying: where the transitions meet), an odd one among all (where they refuse).
   */
  pickOrder(i: number): string | undefined {
    const live = (this.last?.orders ?? [])
      .filter((o) => o.status === 'held' || o.status === 'paying')
      .map((o) => o.id);
    const from = i % 2 === 0 && live.length > 0 ? live : this.orderIds;
    return from.length === 0 ? undefined : from[Math.floor(i / 2) % from.length];
  }

  /**
   * A hold by a drawn index, among the orders held after the last step (none: undefined): the
   * clock's step moves a hold's deadline, so it aims at holds only (a step spent on an order
   * that is not held would move nothing).
   */
  pickHeld(i: number): string | undefined {
    const held = (this.last?.orders ?? []).filter((o) => o.status === 'held').map((o) => o.id);
    return held.length === 0 ? undefined : held[i % held.length];
  }

  /**
   * A hold that owes a referral reward by a drawn index (none: undefined): its payment pays the
   * reward (a group member's, its group's release), which a refund then reverses.
   */
  pickOwing(i: number): InventoryOrder | undefined {
    const owing = (this.last?.orders ?? []).filter(
      (o) => o.status === 'held' && (o.rewardMinor ?? 0) > 0,
    );
    return owing.length === 0 ? undefined : owing[i % owing.length];
  }

  /**
   * A paid order by a drawn index: three indexes in four among the orders paid after the last
   * step (where a refund acts), the fourth among all (where it is refused).
   */
  pickPaid(i: number): string | undefined {
    const paid = (this.last?.orders ?? []).filter((o) => o.status === 'paid');
    // Five picks in six among the paid aim at those that paid a referral reward (when any):
    // the reversal is what a refund of them adds, and they are a few of a sale's paid orders.
    const rewarded = paid.filter((o) => this.rewards.has(o.id));
    const aimed = i % 8 !== 6 && rewarded.length > 0 ? rewarded : paid;
    const from = i % 4 !== 3 && paid.length > 0 ? aimed.map((o) => o.id) : this.orderIds;
    return from.length === 0 ? undefined : from[Math.floor(i / 2) % from.length];
  }

  fan(i: number): string {
    return this.fans[i % this.fans.length];
  }

  tierOf(fanId: string): string | undefined {
    return this.tiers[this.fans.indexOf(fanId)];
  }

  /** Whether a members-only drop admits the fan (any fan, on a drop open to all). */
  admits(fanId: string): boolean {
    return this.drop.audienceTier === undefined || this.tierOf(fanId) === this.drop.audienceTier;
  }

  /** What the model says a fan's wallet holds now: credits, less payments, plus refunds and rewards. */
  balanceOf(fanId: string): number {
    let b = this.credited.get(fanId) ?? 0;
    for (const d of this.debited.values()) if (d.fanId === fanId) b -= d.amount;
    for (const d of this.refunded.values()) if (d.fanId === fanId) b += d.amount;
    for (const d of this.rewards.values()) if (d.referrerId === fanId) b += d.amount;
    for (const d of this.reversals.values()) if (d.referrerId === fanId) b -= d.amount;
    return b;
  }

  /**
   * What the drop's brand holds in revenue by the model (one brand per seed): payments (a group
   * member's once its escrow was released), less the rewards paid from them and the refunds
   * from revenue, plus the rewards' reversals. A failed group's member is refunded from escrow.
   */
  brandRevenue(): number {
    let b = 0;
    const inRevenue = (id: string) => !this.debited.get(id)?.escrow || this.released.has(id);
    for (const [id, d] of this.debited) if (inRevenue(id)) b += d.amount;
    for (const d of this.rewards.values()) b -= d.amount;
    for (const d of this.reversals.values()) b += d.amount;
    for (const [id, d] of this.refunded) if (inRevenue(id)) b -= d.amount;
    return b;
  }

  /** What the drop's escrow holds by the model: members' payments neither released nor refunded. */
  escrowHeld(): number {
    let b = 0;
    for (const [id, d] of this.debited) {
      if (d.escrow && !this.released.has(id) && !this.refunded.has(id)) b += d.amount;
    }
    return b;
  }

  /** Whether the drop is a group-buy drop (every hold a member of a group). */
  get grouped(): boolean {
    return this.drop.groupSize !== undefined;
  }

  /**
   * A group by a drawn index, read after the last step: `open` picks among the open groups
   * (none: among all), `any` among every group the drop made (complete, failed, full ones
   * refuse a join).
   */
  pickGroup(i: number, which: 'open' | 'any'): InventoryGroup | undefined {
    const all = [...this.groups.values()];
    const open = all.filter((g) => g.status === 'open');
    const from = which === 'open' && open.length > 0 ? open : all;
    return from.length === 0 ? undefined : from[i % from.length];
  }

  /**
   * A member whose payment would fill its group, by a drawn index: held, in an open group one
   * paid member short of its size (none: undefined). What completion by the last payment, and
   * the completer's crash, act on.
   */
  pickFilling(i: number): InventoryOrder | undefined {
    const filling = (this.last?.orders ?? []).filter((o) => {
      const g = o.groupId === undefined ? undefined : this.groups.get(o.groupId);
      return o.status === 'held' && g?.status === 'open' && g.paidMembers === g.size - 1;
    });
    return filling.length === 0 ? undefined : filling[i % filling.length];
  }

  /**
   * Whether the wallet can refund a paid order now (apps/wallet/PAYMENTS.md "Referral
   * rewards"): the fan gets the whole payment back from the brand's revenue, which gets back
   * the order's reward as far as its referrer still holds it; a brand whose whole revenue
   * cannot pay the rest is declined (recorded per attempt), and the order goes back to `paid`.
   */
  refundFunded(orderId: string): boolean {
    const payment = this.debited.get(orderId);
    if (!payment || this.refunded.has(orderId)) return true;
    // A member's payment still in escrow is refunded from there (a failed group's).
    if (payment.escrow && !this.released.has(orderId)) return true;
    const reward = this.rewards.get(orderId);
    const back = reward ? Math.min(reward.amount, this.balanceOf(reward.referrerId)) : 0;
    return this.brandRevenue() + back >= payment.amount;
  }

  /**
   * What a hold the sale made now must say of its price and its reward (docs/api.md
   * "Campaigns"): the share discount when its fan shared before, the referral reward when its
   * fan reserved with a referrer and the drop pays one.
   */
  expectedHold(fanId: string): {
    unitPriceMinor: number;
    referrerId?: string;
    rewardMinor?: number;
  } {
    const discount = this.shared.has(fanId) ? (this.drop.shareDiscountMinor ?? 0) : 0;
    const reward = this.drop.referralRewardMinor ?? 0;
    const referrerId = this.referrers.get(fanId);
    return {
      unitPriceMinor: this.drop.priceMinor - discount,
      ...(reward > 0 && referrerId !== undefined ? { referrerId, rewardMinor: reward } : {}),
    };
  }

  learn(orders: readonly InventoryOrder[]): void {
    for (const o of orders) if (!this.orderIds.includes(o.id)) this.orderIds.push(o.id);
  }
}
