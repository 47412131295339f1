import Redis from 'ioredis';
import { DROPS_INDEX_KEY, dropKeys, HoldStatus, WALLETLESS_DROPS_KEY } from '@flashdrop/inventory';
import { Breach } from './breach';

/** One order as stored in Redis, as much as the audit needs. */
export interface StoredOrder {
  readonly id: string;
  readonly dropId: string;
  readonly fanId: string;
  readonly quantity: number;
  readonly amountMinor: number;
  readonly status: HoldStatus;
  readonly payingUntil?: number;
  /** Paid by a script-level test without a wallet (WALLETLESS_DROPS_KEY). */
  readonly walletless: boolean;
}

export interface SalesAudit {
  readonly breaches: Breach[];
  readonly orders: Map<string, StoredOrder>;
  readonly drops: number;
}

const LIVE: readonly HoldStatus[] = ['held', 'paying'];

/**
 * Invariants 1-3 (and the paid half of 5) of every drop in `drops:index`, from Redis alone:
 * held + paid units <= quantity and stock == quantity - held - paid; each fan's held + paid
 * units <= perUserLimit (and equal to the `fans` counter the grab checks); where a
 * reservation is required, every order's fan reserved inside the window.
 */
export async function auditSales(redis: Redis, only?: readonly string[]): Promise<SalesAudit> {
  const breaches: Breach[] = [];
  const orders = new Map<string, StoredOrder>();
  const dropIds = only ? [...only] : await redis.smembers(DROPS_INDEX_KEY);
  const walletless = new Set(await redis.smembers(WALLETLESS_DROPS_KEY));
  for (const dropId of dropIds) {
    const k = dropKeys(dropId);
    const [drop, stockRaw, fanOrders, fanUnits] = await Promise.all([
      redis.hgetall(k.drop),
      redis.get(k.stock),
      redis.hgetall(k.fanOrders),
      redis.hgetall(k.fans),
    ]);
    if (!drop.id) continue; // indexed before it was mirrored (libs/inventory createDrop)
    const quantity = Number(drop.quantity);
    const limit = Number(drop.perUserLimit);
    const stock = Number(stockRaw ?? 0);

    const ids = Object.values(fanOrders).flatMap((list) => list.split(' ').filter(Boolean));
    const dropOrders = await loadOrders(redis, dropId, ids, walletless.has(dropId));
    let liveOrPaid = 0;
    const perFan = new Map<string, number>();
    for (const o of dropOrders) {
      orders.set(o.id, o);
      if (!LIVE.includes(o.status) && o.status !== 'paid') continue;
      liveOrPaid += o.quantity;
      perFan.set(o.fanId, (perFan.get(o.fanId) ?? 0) + o.quantity);
    }

    const subject = `drop ${dropId}`;
    if (liveOrPaid > quantity) {
      breaches.push({ invariant: 1, subject, message: `held+paid ${liveOrPaid} > ${quantity}` });
    }
    if (stock !== quantity - liveOrPaid) {
      breaches.push({
        invariant: 1,
        subject,
        message: `stock ${stock} != quantity ${quantity} - held+paid ${liveOrPaid}`,
      });
    }
    for (const [fanId, units] of perFan) {
      if (units > limit) {
        breaches.push({ invariant: 2, subject, message: `fan ${fanId} has ${units} > ${limit}` });
      }
    }
    for (const [fanId, counted] of Object.entries(fanUnits)) {
      if (Number(counted) !== (perFan.get(fanId) ?? 0)) {
        breaches.push({
          invariant: 2,
          subject,
          message: `fan ${fanId}: counter ${counted} != held+paid ${perFan.get(fanId) ?? 0}`,
        });
      }
    }
    if (drop.reservationRequired === '1') {
      breaches.push(...(await auditEligibility(redis, dropId, drop, dropOrders)));
    }
  }
  return { breaches, orders, drops: dropIds.length };
}

async function loadOrders(
  redis: Redis,
  dropId: string,
  ids: string[],
  walletless: boolean,
): Promise<StoredOrder[]> {
  const k = dropKeys(dropId);
  const out: StoredOrder[] = [];
  for (let i = 0; i < ids.length; i += 1000) {
    const pipeline = redis.pipeline();
    for (const id of ids.slice(i, i + 1000)) pipeline.hgetall(k.order(id));
    for (const [err, value] of (await pipeline.exec()) ?? []) {
      if (err) throw err;
      const h = value as Record<string, string>;
      if (!h.id) continue;
      out.push({
        id: h.id,
        dropId: h.dropId,
        fanId: h.fanId,
        quantity: Number(h.quantity),
        amountMinor: Number(h.amountMinor),
        status: h.status as HoldStatus,
        payingUntil: h.payingUntil ? Number(h.payingUntil) : undefined,
        walletless,
      });
    }
  }
  return out;
}

/** Reservations are stored as fanId -> ms after the drop's createdAt (reserve.lua). */
async function auditEligibility(
  redis: Redis,
  dropId: string,
  drop: Record<string, string>,
  orders: readonly StoredOrder[],
): Promise<Breach[]> {
  if (orders.length === 0) return [];
  const fans = [...new Set(orders.map((o) => o.fanId))];
  const offsets = await redis.hmget(dropKeys(dropId).reservations, ...fans);
  const opens = drop.reservationOpensAt ? Number(drop.reservationOpensAt) : -Infinity;
  const closes = drop.reservationClosesAt ? Number(drop.reservationClosesAt) : Infinity;
  const breaches: Breach[] = [];
  fans.forEach((fanId, i) => {
    const offset = offsets[i];
    const subject = `drop ${dropId}`;
    if (offset === null) {
      breaches.push({ invariant: 3, subject, message: `fan ${fanId} has orders, no reservation` });
      return;
    }
    const reservedAt = Number(drop.createdAt) + Number(offset);
    if (reservedAt < opens || reservedAt >= closes) {
      breaches.push({
        invariant: 3,
        subject,
        message: `fan ${fanId} reserved at ${reservedAt}, outside [${opens}, ${closes})`,
      });
    }
  });
  return breaches;
}
