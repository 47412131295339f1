import { DropDefinition, InventoryOrder, StoredSale } from '@flashdrop/inventory';

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
  /** Money the wallet took, per order (amount): what the model expects the ledger to show. */
  readonly debited = new Map<string, { fanId: string; amount: number }>();
  /** What each fan was credited (acknowledged credits; one reference counts once). */
  readonly credited = new Map<string, number>();
  /** Each payment attempt's first answer from the wallet (`orderId@attempt`). */
  readonly attempts = new Map<string, string>();
  readonly reserved = new Set<string>();
  /** The last sale read (after the previous step). */
  last?: StoredSale;
  creditSeq = 0;
  /** Steps run so far (a failure names its step). */
  steps = 0;

  constructor(
    readonly drop: DropDefinition,
    readonly fans: readonly string[],
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

  fan(i: number): string {
    return this.fans[i % this.fans.length];
  }

  /** What the model says a fan's wallet holds now. */
  balanceOf(fanId: string): number {
    let b = this.credited.get(fanId) ?? 0;
    for (const d of this.debited.values()) if (d.fanId === fanId) b -= d.amount;
    return b;
  }

  learn(orders: readonly InventoryOrder[]): void {
    for (const o of orders) if (!this.orderIds.includes(o.id)) this.orderIds.push(o.id);
  }
}
