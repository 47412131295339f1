import { HoldStatus, InventoryOrder } from '@flashdrop/inventory';
import { OrderDebits } from '@flashdrop/ledger';

/**
 * One drop's figures as the audit reads them: its orders as Redis stores them (libs/inventory)
 * and what the ledger debited for them (libs/ledger). Independent of `sales.orders`, so the
 * report after the sale, computed from there, can be checked against them.
 */
export interface AuditedDropFigures {
  /** Orders by status (`paying` separate: money may be on its way). */
  readonly orders: Readonly<Record<HoldStatus, number>>;
  readonly units: Readonly<Record<HoldStatus, number>>;
  /** Fans with an order; fans with a paid one. */
  readonly fans: number;
  readonly buyers: number;
  /** Payment transfers of this drop's orders in the ledger, and their sum. */
  readonly debits: number;
  readonly debitedMinor: number;
}

const zero = (): Record<HoldStatus, number> => ({
  held: 0,
  paying: 0,
  grouped: 0,
  paid: 0,
  cancelled: 0,
  expired: 0,
  refunding: 0,
  refunded: 0,
});

/** The figures of each drop whose orders are given (order ids embed their drop id). */
export function figuresOfDrops(
  orders: ReadonlyMap<string, InventoryOrder>,
  debits: readonly OrderDebits[],
): Map<string, AuditedDropFigures> {
  const acc = new Map<
    string,
    {
      orders: Record<HoldStatus, number>;
      units: Record<HoldStatus, number>;
      fans: Set<string>;
      buyers: Set<string>;
      debits: number;
      debitedMinor: number;
    }
  >();
  for (const o of orders.values()) {
    let f = acc.get(o.dropId);
    if (!f) {
      f = {
        orders: zero(),
        units: zero(),
        fans: new Set(),
        buyers: new Set(),
        debits: 0,
        debitedMinor: 0,
      };
      acc.set(o.dropId, f);
    }
    f.orders[o.status] += 1;
    f.units[o.status] += o.quantity;
    f.fans.add(o.fanId);
    if (o.status === 'paid') f.buyers.add(o.fanId);
  }
  for (const d of debits) {
    const order = orders.get(d.orderId);
    const f = order && acc.get(order.dropId);
    if (!f) continue;
    f.debits += d.count;
    f.debitedMinor += d.amount;
  }
  return new Map(
    [...acc].map(([dropId, f]) => [
      dropId,
      {
        orders: f.orders,
        units: f.units,
        fans: f.fans.size,
        buyers: f.buyers.size,
        debits: f.debits,
        debitedMinor: f.debitedMinor,
      },
    ]),
  );
}
