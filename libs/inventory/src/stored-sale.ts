import type { RedisClient } from '@flashdrop/persistence';
import { parseDefinition, parseOrder } from './hashes';
import { dropKeys } from './keys';
import { RebuildRecord } from './rebuilt-standing';
import { DropDefinition, InventoryOrder } from './types';

/** A drop's sale as Redis stores it: what the audit recomputes invariants 1-3 from. */
export interface StoredSale {
  readonly definition: DropDefinition;
  /** Units a fan could grab now (the `stock` key). */
  readonly stock: number;
  /** Released units waiting for a paused sale's resume (neither held nor in stock). */
  readonly parked: number;
  /** Allocations handed out (grab, draw, backfill): the last number of the allocation log. */
  readonly allocated: number;
  /** Every order the fans' order lists name, in any status (every fan who grabbed: `fans`). */
  readonly orders: readonly InventoryOrder[];
  /** The per-fan counter the grab checks: fanId -> held + paid units. */
  readonly unitsPerFan: ReadonlyMap<string, number>;
  /** The refunding index (the refund recovery's work): orderId -> the attempt it was begun as. */
  readonly refundsUnderWay: ReadonlyMap<string, number>;
  /** Set when the drop was rebuilt after Redis lost it: when, and what could not be rebuilt. */
  readonly rebuilt?: RebuildRecord;
}

/** Orders are read this many per pipeline, so a 50,000-order drop is a few dozen round trips. */
const ORDERS_PER_READ = 1000;

export async function readStoredSale(
  redis: RedisClient,
  dropId: string,
): Promise<StoredSale | undefined> {
  const k = dropKeys(dropId);
  const [drop, stock, fanUnits, parked, [allocated, rebuiltAt, rebuiltLost], refunding] =
    await Promise.all([
      redis.hgetall(k.drop),
      redis.get(k.stock),
      redis.hgetall(k.fans),
      redis.llen(k.parked),
      redis.hmget(k.stats, 'allocSeq', 'rebuiltAt', 'rebuiltLost'),
      redis.zrange(k.refunding, 0, -1, 'WITHSCORES'),
    ]);
  const refundsUnderWay = new Map<string, number>();
  for (let i = 0; i < refunding.length; i += 2) {
    refundsUnderWay.set(refunding[i], Number(refunding[i + 1]));
  }
  if (!drop.id) return undefined; // indexed before it was mirrored (Inventory.createDrop)
  // Every fan who ever held units has a field in `fans` (a release leaves it at 0), and each
  // of their orders is in their list.
  const ids: string[] = [];
  const fans = Object.keys(fanUnits);
  for (let i = 0; i < fans.length; i += ORDERS_PER_READ) {
    const pipeline = redis.pipeline();
    for (const fan of fans.slice(i, i + ORDERS_PER_READ)) pipeline.lrange(k.fanOrders(fan), 0, -1);
    for (const [err, value] of (await pipeline.exec()) ?? []) {
      if (err) throw err;
      ids.push(...(value as string[]));
    }
  }
  const orders: InventoryOrder[] = [];
  for (let i = 0; i < ids.length; i += ORDERS_PER_READ) {
    const pipeline = redis.pipeline();
    for (const id of ids.slice(i, i + ORDERS_PER_READ)) pipeline.hgetall(k.order(id));
    for (const [err, value] of (await pipeline.exec()) ?? []) {
      if (err) throw err;
      const h = value as Record<string, string>;
      if (h.id) orders.push(parseOrder(h));
    }
  }
  return {
    definition: parseDefinition(drop),
    stock: Number(stock ?? 0),
    parked,
    allocated: Number(allocated ?? 0),
    orders,
    unitsPerFan: new Map(Object.entries(fanUnits).map(([fan, n]) => [fan, Number(n)])),
    refundsUnderWay,
    ...(rebuiltAt
      ? { rebuilt: { at: Number(rebuiltAt), lost: (rebuiltLost ?? '').split(',').filter(Boolean) } }
      : {}),
  };
}

/**
 * When each fan reserved the drop (epoch ms; undefined: no reservation). Reservations are stored
 * as milliseconds after the drop's createdAt (reserve.lua).
 */
export async function readReservedAt(
  redis: RedisClient,
  definition: DropDefinition,
  fanIds: readonly string[],
): Promise<(number | undefined)[]> {
  if (fanIds.length === 0) return [];
  const offsets = await redis.hmget(dropKeys(definition.id).reservations, ...fanIds);
  return offsets.map((o) => (o === null ? undefined : definition.createdAt + Number(o)));
}
