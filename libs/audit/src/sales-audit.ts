import { HoldStatus, Inventory, InventoryOrder, StoredSale } from '@flashdrop/inventory';
import { Breach } from './breach';

export interface SalesAudit {
  readonly breaches: Breach[];
  /** Every order of the audited drops, by id (for the money cross-check). */
  readonly orders: Map<string, InventoryOrder>;
  readonly drops: number;
  /** The audited drops' sales as read (for the fair-launch audit). */
  readonly sales: StoredSale[];
}

const LIVE: readonly HoldStatus[] = ['held', 'paying'];

/**
 * Invariants 1-3 of the given drops, from the sale as Redis stores it (libs/inventory
 * `storedSale`): held + paid units <= quantity and stock + parked == quantity - held - paid; each fan's
 * held + paid units <= perUserLimit (and equal to the per-fan counter the grab checks); where a
 * reservation is required, every order's fan reserved inside the window. And invariant 9's
 * refund index: every refund under way is where the refund recovery finds it. Safe to run while the
 * stack serves: a read torn by a change is read again (see SALE_RECHECKS).
 */
/** How many more times a drop that showed a breach is read before the breach is reported. */
export const SALE_RECHECKS = 3;
const RECHECK_PAUSE_MS = 100;

export async function auditSales(
  inventory: Inventory,
  dropIds: readonly string[],
  /** Called after each drop with how many are done (a long audit reports its progress). */
  progress?: (done: number) => void,
): Promise<SalesAudit> {
  const breaches: Breach[] = [];
  const orders = new Map<string, InventoryOrder>();
  const sales: StoredSale[] = [];
  for (const [done, dropId] of dropIds.entries()) {
    progress?.(done);
    let sale = await inventory.storedSale(dropId);
    if (!sale) continue;
    let found = await breachesOf(inventory, sale);
    // A read of a drop is several round trips (the counters, then the fans' lists, then their
    // orders), so on a running stack a hold that expires, is cancelled or is grabbed between
    // them tears the read: a counter from before the change beside orders from after it looks
    // like a breach. A breach of the stored truth is there on every read, a torn read is not:
    // a drop is reported only if every one of 1 + SALE_RECHECKS reads shows a breach, and then
    // with what the last read showed.
    for (let again = 0; found.length > 0 && again < SALE_RECHECKS; again++) {
      await new Promise((resolve) => setTimeout(resolve, RECHECK_PAUSE_MS));
      const fresh = await inventory.storedSale(dropId);
      if (!fresh) break;
      sale = fresh;
      found = await breachesOf(inventory, sale);
    }
    breaches.push(...found);
    sales.push(sale);
    for (const o of sale.orders) orders.set(o.id, o);
  }
  progress?.(dropIds.length);
  return { breaches, orders, drops: dropIds.length, sales };
}

/** Invariants 1-3 of one read of one drop. */
async function breachesOf(inventory: Inventory, sale: StoredSale): Promise<Breach[]> {
  const breaches: Breach[] = [];
  const { definition: drop, stock, parked } = sale;
  const dropId = drop.id;
  let liveOrPaid = 0;
  const perFan = new Map<string, number>();
  for (const o of sale.orders) {
    // A refund under way still holds its units: complete_refund frees them.
    // A grouped order (group buy, paid into escrow) holds its unit until its group ends.
    if (
      !LIVE.includes(o.status) &&
      o.status !== 'paid' &&
      o.status !== 'refunding' &&
      o.status !== 'grouped'
    )
      continue;
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
  // Units released during a pause wait parked (neither held nor grabbable) until the resume.
  if (stock + parked !== drop.quantity - liveOrPaid) {
    breaches.push({
      invariant: 1,
      subject,
      message: `stock ${stock}${parked > 0 ? ` + parked ${parked}` : ''} != quantity ${drop.quantity} - held+paid ${liveOrPaid}`,
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
  breaches.push(...refundIndexBreaches(sale));
  return breaches;
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

/**
 * Invariant 9's refunds: an order is `refunding` exactly when it is in its drop's refunding
 * index with its attempt (begin_refund writes both, complete_refund and abort_refund take both
 * away, a rebuild restores both), or the refund recovery, which reads the index, never finishes
 * it and the wallet is never asked for that attempt again.
 */
function refundIndexBreaches(sale: StoredSale): Breach[] {
  const breaches: Breach[] = [];
  const refunding = new Map(
    sale.orders.filter((o) => o.status === 'refunding').map((o) => [o.id, o.refundingSince]),
  );
  for (const [orderId, attempt] of refunding) {
    const indexed = sale.refundsUnderWay.get(orderId);
    if (indexed !== attempt) {
      const where = indexed === undefined ? 'not in' : `as attempt ${indexed} in`;
      breaches.push({
        invariant: 9,
        subject: `order ${orderId}`,
        message: `refunding (attempt ${String(attempt)}) but ${where} the refunding index`,
      });
    }
  }
  for (const orderId of sale.refundsUnderWay.keys()) {
    if (!refunding.has(orderId)) {
      breaches.push({
        invariant: 9,
        subject: `order ${orderId}`,
        message: 'in the refunding index but not refunding',
      });
    }
  }
  return breaches;
}
