import {
  AllocationEntry,
  chainProblems,
  DrawSource,
  verifyDraw,
  winnersCount,
} from '@flashdrop/fair';
import { allocationKindOf, InventoryOrder, StoredSale } from '@flashdrop/inventory';
import type { AllocationRecords, DrawRecords, OrderRecords } from '@flashdrop/sales';
import { Breach } from './breach';

/** The sale's durable records the audit reads (libs/sales: a SalesDatabase). */
export interface SaleRecords {
  readonly allocations: AllocationRecords;
  readonly draws: DrawRecords;
  /** The orders' copy (durability-audit.ts). */
  readonly orders: Pick<OrderRecords, 'holdersOfDrop'>;
}

const PAGE = 1000;

/**
 * Invariant 8 of one drop (DESIGN.md): its allocation log is a valid hash chain numbered from 1
 * with no gap; it has as many entries as the drop handed out (the scripts' allocation counter)
 * and the log and the orders agree one to one (order id, fan, quantity, kind, and where a
 * backfill came from); every backfill came from a released order of the drop, at most one per
 * released unit; a drawn draw's published winners are the recomputed draw of its published
 * seed and entrants, and each winner holds the draw's order of their rank.
 * `sale.allocated` is the drop's allocation counter (Redis); the log may trail it while the
 * worker writes: the caller waits for that before calling (`logsCaughtUp`).
 */
export async function auditFairness(records: SaleRecords, sale: StoredSale): Promise<Breach[]> {
  const counted = sale.allocated;
  const dropId = sale.definition.id;
  const breaches: Breach[] = [];
  const breach = (message: string) =>
    breaches.push({ invariant: 8, subject: `drop ${dropId}`, message });
  const log = await readLog(records.allocations, dropId);
  for (const p of chainProblems(log).slice(0, 5)) breach(`allocation log: ${p}`);
  if (log.length !== counted) {
    breach(`allocation log has ${log.length} entries, the drop handed out ${counted}`);
  }
  const byId = new Map(sale.orders.map((o) => [o.id, o]));
  const logged = new Set<string>();
  for (const e of log) {
    logged.add(e.orderId);
    const o = byId.get(e.orderId);
    if (!o) {
      breach(`allocation ${e.seq} names order ${e.orderId}, which the drop does not have`);
      continue;
    }
    if (o.fanId !== e.fanId || o.quantity !== e.quantity || allocationKindOf(o.id) !== e.kind) {
      breach(`allocation ${e.seq} (${e.kind}, ${e.fanId} x${e.quantity}) != order ${o.id}`);
    }
    if ((e.fromOrderId ?? undefined) !== o.fromOrderId) {
      breach(
        `allocation ${e.seq}: from ${e.fromOrderId ?? '-'}, order says ${o.fromOrderId ?? '-'}`,
      );
    }
  }
  if (counted > 0) {
    for (const o of sale.orders) {
      if (!logged.has(o.id)) breach(`order ${o.id} is not in the allocation log`);
    }
  }
  breaches.push(...backfillBreaches(dropId, sale.orders, byId));
  if (sale.definition.allocation === 'draw') {
    breaches.push(...(await drawBreaches(records, sale)));
  }
  return breaches;
}

function backfillBreaches(
  dropId: string,
  orders: readonly InventoryOrder[],
  byId: ReadonlyMap<string, InventoryOrder>,
): Breach[] {
  const out: Breach[] = [];
  const passed = new Map<string, number>();
  for (const o of orders) {
    if (allocationKindOf(o.id) !== 'backfill') continue;
    const from = o.fromOrderId ? byId.get(o.fromOrderId) : undefined;
    const subject = `order ${o.id}`;
    if (!from) {
      out.push({
        invariant: 8,
        subject,
        message: `backfill from an unknown order ${o.fromOrderId}`,
      });
      continue;
    }
    if (!['expired', 'cancelled', 'refunded'].includes(from.status)) {
      out.push({
        invariant: 8,
        subject,
        message: `backfill from ${from.id}, which is ${from.status}`,
      });
    }
    passed.set(from.id, (passed.get(from.id) ?? 0) + 1);
  }
  for (const [fromId, n] of passed) {
    const q = byId.get(fromId)!.quantity;
    if (n > q) {
      out.push({
        invariant: 8,
        subject: `drop ${dropId}`,
        message: `${fromId} (${q} units) passed down ${n} times`,
      });
    }
  }
  return out;
}

async function drawBreaches(records: SaleRecords, sale: StoredSale): Promise<Breach[]> {
  const dropId = sale.definition.id;
  const published = await records.draws.find(dropId);
  if (!published?.drawnAt || !published.winners) return [];
  const out: Breach[] = [];
  const breach = (message: string) =>
    out.push({ invariant: 8, subject: `drop ${dropId}`, message });
  const source: DrawSource = {
    draw: async () => ({
      dropId,
      algorithm: published.algorithm,
      seedCommitment: published.seedCommitment,
      entrants: published.entrants,
      entrantsDigest: published.entrantsDigest,
      seed: published.seed,
      winners: published.winners,
    }),
    quantity: async () => sale.definition.quantity,
    entrantsPage: async (cursor) => {
      const page = cursor === undefined ? 0 : Number(cursor);
      const items = (await records.draws.entrantsPage(dropId, page)) ?? [];
      const last = Math.ceil(published.entrants / published.pageSize) - 1;
      return page < last ? { items, nextCursor: String(page + 1) } : { items };
    },
  };
  const verdict = await verifyDraw(source);
  if (verdict.verdict !== 'match') {
    breach(
      `the published draw does not verify: ${verdict.lines.filter((l) => l.startsWith('FAIL')).join('; ')}`,
    );
  }
  const winners = published.winners;
  if (winners.length !== winnersCount(sale.definition.quantity, published.entrants)) {
    breach(`${winners.length} winners published for ${published.entrants} entrants`);
  }
  const drawOrders = sale.orders.filter((o) => allocationKindOf(o.id) === 'draw');
  if (drawOrders.length !== winners.length) {
    breach(`${drawOrders.length} draw holds, ${winners.length} winners`);
  }
  for (const o of drawOrders) {
    const rank = Number(o.id.slice(o.id.indexOf('-') + 2));
    if (winners[rank] !== o.fanId)
      breach(`draw hold ${o.id} is ${o.fanId}'s, rank ${rank} is ${winners[rank]}'s`);
  }
  const fans = new Set(drawOrders.map((o) => o.fanId));
  if (fans.size !== drawOrders.length) breach('a winner holds two draw holds');
  return out;
}

async function readLog(allocations: AllocationRecords, dropId: string): Promise<AllocationEntry[]> {
  const log: AllocationEntry[] = [];
  for (;;) {
    const page = await allocations.page(dropId, log.at(-1)?.seq ?? 0, PAGE);
    log.push(...page);
    if (page.length < PAGE) return log;
  }
}

/**
 * Waits (up to `timeoutMs` in all) until every drop's log holds as many entries as the drop
 * handed out: the worker chains the log a pass behind the sale. Answers the drops still behind.
 */
export async function logsCaughtUp(
  allocations: AllocationRecords,
  sales: readonly StoredSale[],
  timeoutMs: number,
): Promise<Set<string>> {
  const deadline = Date.now() + timeoutMs;
  let behind = sales.filter((s) => s.allocated > 0);
  for (;;) {
    const heads = await Promise.all(behind.map((s) => allocations.head(s.definition.id)));
    behind = behind.filter((s, i) => (heads[i]?.seq ?? 0) < s.allocated);
    if (behind.length === 0 || Date.now() > deadline) {
      return new Set(behind.map((s) => s.definition.id));
    }
    await new Promise((r) => setTimeout(r, 250));
  }
}
