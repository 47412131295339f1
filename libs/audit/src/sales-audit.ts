import { HoldStatus, Inventory, InventoryOrder } from '@flashdrop/inventory';
import { Breach } from './breach';

export interface SalesAudit {
  readonly breaches: Breach[];
  /** Every order of the audited drops, by id (for the money cross-check). */
  readonly orders: Map<string, InventoryOrder>;
  readonly drops: number;
}

const LIVE: readonly HoldStatus[] = ['held', 'paying'];

/**
 * Invariants 1-3 of the given drops, from the sale as Redis stores it (libs/inventory
 * `storedSale`): held + paid units <= quantity and stock == quantity - held - paid; each fan's
 * held + paid units <= perUserLimit (and equal to the per-fan counter the grab checks); where a
 * reservation is required, every order's fan reserved inside the window.
 */
export async function auditSales(
  inventory: Inventory,
  dropIds: readonly string[],
  /** Called after each drop with how many are done (a long audit reports its progress). */
  progress?: (done: number) => void,
): Promise<SalesAudit> {
  const breaches: Breach[] = [];
  const orders = new Map<string, InventoryOrder>();
  for (const [done, dropId] of dropIds.entries()) {
    progress?.(done);
    const sale = await inventory.storedSale(dropId);
    if (!sale) continue;
    const { definition: drop, stock } = sale;
    let liveOrPaid = 0;
    const perFan = new Map<string, number>();
    for (const o of sale.orders) {
      orders.set(o.id, o);
      if (!LIVE.includes(o.status) && o.status !== 'paid') continue;
      liveOrPaid += o.quantity;
      perFan.set(o.fanId, (perFan.get(o.fanId) ?? 0) + o.quantity);
    }

    const subject = `drop ${dropId}`;
    if (liveOrPaid > drop.quantity) {
      breaches.push({
        invariant: 1,
        subject,
        message: `held+paid ${liveOrPaid} > ${drop.quantity}`,
      });
    }
    if (stock !== drop.quantity - liveOrPaid) {
      breaches.push({
        invariant: 1,
        subject,
        message: `stock ${stock} != quantity ${drop.quantity} - held+paid ${liveOrPaid}`,
      });
    }
    for (const [fanId, units] of perFan) {
      if (units > drop.perUserLimit) {
        breaches.push({
          invariant: 2,
          subject,
          message: `fan ${fanId} has ${units} > ${drop.perUserLimit}`,
        });
      }
    }
    for (const [fanId, counted] of sale.unitsPerFan) {
      if (counted !== (perFan.get(fanId) ?? 0)) {
        breaches.push({
          invariant: 2,
          subject,
          message: `fan ${fanId}: counter ${counted} != held+paid ${perFan.get(fanId) ?? 0}`,
        });
      }
    }
    if (drop.reservationRequired) {
      breaches.push(...(await auditEligibility(inventory, sale.definition, sale.orders)));
    }
  }
  progress?.(dropIds.length);
  return { breaches, orders, drops: dropIds.length };
}

/** Every fan with an order reserved inside the window [reservationOpensAt, reservationClosesAt). */
async function auditEligibility(
  inventory: Inventory,
  drop: Parameters<Inventory['reservedAt']>[0],
  orders: readonly InventoryOrder[],
): Promise<Breach[]> {
  if (orders.length === 0) return [];
  const fans = [...new Set(orders.map((o) => o.fanId))];
  const reservedAt = await inventory.reservedAt(drop, fans);
  const opens = drop.reservationOpensAt ?? -Infinity;
  const closes = drop.reservationClosesAt ?? Infinity;
  const breaches: Breach[] = [];
  const subject = `drop ${drop.id}`;
  fans.forEach((fanId, i) => {
    const at = reservedAt[i];
    if (at === undefined) {
      breaches.push({ invariant: 3, subject, message: `fan ${fanId} has orders, no reservation` });
    } else if (at < opens || at >= closes) {
      breaches.push({
        invariant: 3,
        subject,
        message: `fan ${fanId} reserved at ${at}, outside [${opens}, ${closes})`,
      });
    }
  });
  return breaches;
}
