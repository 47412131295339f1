import { InventoryOrder, REFUND_GRACE_MS } from '@flashdrop/inventory';
import { LedgerFacts, OrderDebits } from '@flashdrop/ledger';
import { Breach } from './breach';

/**
 * Orders whose payment stands in the ledger: paid, and paid then refunded (or being), and a group
 * member's paid into escrow (grouped).
 */
const PAID_ONCE: readonly string[] = ['paid', 'refunding', 'refunded', 'grouped'];

/** A debit whose order is still `paying` this long after payingUntil is stuck. */
const STUCK_AFTER_MS = 30_000;

/**
 * A refund still under way this long after it began is stuck: the refund recovery takes it
 * after REFUND_GRACE_MS and, every second, either completes it or (the wallet declined it: the
 * brand cannot pay) puts the order back to paid. The margin covers a busy worker.
 */
const REFUND_STUCK_AFTER_MS = REFUND_GRACE_MS + 60_000;

/**
 * Invariant 4 from the ledger alone (libs/ledger `LedgerFacts`), and invariant 5 across the
 * ledger and the orders in Redis: every paid order debited exactly once with its amount, every
 * debit belonging to a paid (or since refunded) order, nothing debited on an expired or
 * cancelled order. Invariant 9's refunds: each refund reverses one payment (its fan, its amount,
 * back from the revenue shard it went to), once, and belongs to a refunded order; a refunded
 * order has its refund; no refund stays under way past the refund recovery's window.
 */
export async function auditMoney(
  ledger: LedgerFacts,
  orders: ReadonlyMap<string, InventoryOrder>,
  now: number,
  dropIds?: readonly string[],
): Promise<{ breaches: Breach[]; accounts: number; transfers: number; debits: OrderDebits[] }> {
  const breaches: Breach[] = [];
  const money = (subject: string, message: string) =>
    breaches.push({ invariant: 4, subject, message });
  const once = (subject: string, message: string) =>
    breaches.push({ invariant: 5, subject, message });
  const campaign = (subject: string, message: string) =>
    breaches.push({ invariant: 9, subject, message });

  for (const t of await ledger.unbalancedTransfers()) {
    money(`transfer ${t.id}`, `not balanced: ${t.entries} entries summing to ${t.total}`);
  }
  for (const a of await ledger.accountsOffTheirEntries()) {
    money(`account ${a.id}`, `balance ${a.balance} != sum of its entries ${a.sumOfEntries}`);
  }
  for (const a of await ledger.negativeAccounts()) {
    money(`account ${a.id}`, `${a.kind} balance ${a.balance} is negative`);
  }
  for (const c of await ledger.currencyTotals()) {
    if (c.held !== c.credited || c.external !== -c.credited) {
      money(
        `currency ${c.currency}`,
        `fans+revenue hold ${c.held}, external credits ${c.credited}, external account ${c.external}`,
      );
    }
  }

  // Order ids embed their drop id (libs/inventory ids.ts): `<dropId>-<random>`.
  const inScope = (orderId: string) =>
    !dropIds || dropIds.some((dropId) => orderId.startsWith(`${dropId}-`));
  for (const [orderId, n] of await ledger.ordersNotDebitedOnce()) {
    if (inScope(orderId)) once(`order ${orderId}`, `${n} debited payment attempts`);
  }
  const debits = await ledger.debitsByOrder();
  const debited = new Set(debits.map((d) => d.orderId));
  for (const d of debits) {
    if (!inScope(d.orderId)) continue;
    const subject = `order ${d.orderId}`;
    if (d.count !== 1) once(subject, `debited ${d.count} times`);
    const order = orders.get(d.orderId);
    if (!order) {
      once(subject, `debited ${d.amount} but no such order in Redis`);
      continue;
    }
    if (order.status === 'paying') {
      if ((order.payingUntil ?? 0) + STUCK_AFTER_MS < now) {
        once(subject, 'debited but stuck in paying long after payingUntil');
      }
      continue;
    }
    if (!PAID_ONCE.includes(order.status)) once(subject, `debited but ${order.status}`);
    if (d.amount !== order.amountMinor) {
      once(subject, `debited ${d.amount}, the order costs ${order.amountMinor}`);
    }
    if (d.fanId !== order.fanId) once(subject, `debited fan ${d.fanId}, not ${order.fanId}`);
  }
  for (const order of orders.values()) {
    if (PAID_ONCE.includes(order.status) && !debited.has(order.id)) {
      once(`order ${order.id}`, `${order.status} but never debited`);
    }
  }

  const refunded = new Set<string>();
  for (const r of await ledger.refundsByOrder()) {
    if (!inScope(r.orderId)) continue;
    refunded.add(r.orderId);
    const subject = `order ${r.orderId}`;
    if (r.count !== 1) campaign(subject, `refunded ${r.count} times`);
    if (r.paymentAmount === undefined) {
      campaign(subject, `refunded ${r.amount} but never paid`);
      continue;
    }
    if (r.amount !== r.paymentAmount || r.fanId !== r.paymentFanId || !r.reversesPayment) {
      campaign(
        subject,
        `refund of ${r.amount} to ${r.fanId} does not reverse the payment of ` +
          `${r.paymentAmount} by ${r.paymentFanId}`,
      );
    }
    const order = orders.get(r.orderId);
    if (order && order.status !== 'refunded' && order.status !== 'refunding') {
      campaign(subject, `refunded in the wallet but ${order.status}`);
    }
  }
  for (const order of orders.values()) {
    if (order.status === 'refunded' && !refunded.has(order.id)) {
      campaign(`order ${order.id}`, 'refunded but the wallet holds no refund');
    }
    if (
      order.status === 'refunding' &&
      inScope(order.id) &&
      (order.refundingSince ?? 0) + REFUND_STUCK_AFTER_MS < now
    ) {
      campaign(
        `order ${order.id}`,
        `refunding for ${Math.round((now - (order.refundingSince ?? 0)) / 1000)} s: stuck past ` +
          'the refund recovery (neither refunded nor declined and put back to paid)',
      );
    }
  }
  return { breaches, debits, ...(await ledger.counts()) };
}
