import type { RedisClient } from '@flashdrop/persistence';
import { OutboxStreamFields } from '@flashdrop/events';
import {
  createOpenDrop,
  heldOrder,
  moveHoldDeadline,
  redisNow,
  SaleRedisFixture,
  slotPort,
} from '@flashdrop/testing';

import { dropKeys } from './keys';
import { BadRecordError, DropDefinition, Inventory } from './index';

/**
 * Redis never rolls a script back: a script that fails after its first write leaves that write
 * behind. Every script checks what it computes with before it writes, so a sum past int64 or a
 * record that is not what the scripts wrote is refused with nothing written, never half-done.
 * Each case reads everything the script could have written.
 */
describe('no script fails half-way after its first write', () => {
  const own = new SaleRedisFixture({ port: slotPort(6390) });
  let redis: RedisClient;
  let inventory: Inventory;

  beforeAll(async () => {
    ({ redis, inventory } = await own.open());
  }, 30_000);
  afterAll(() => own.close());

  const newDrop = (overrides: Partial<DropDefinition> = {}) => createOpenDrop(inventory, overrides);

  const held = (def: DropDefinition, fanId = 'fan-1') =>
    heldOrder(inventory, { dropId: def.id, fanId });

  /** Everything of a drop a script may write, to compare before and after. */
  async function snapshot(dropId: string, orderIds: string[] = []) {
    const k = dropKeys(dropId);
    const fans = await redis.hgetall(k.fans);
    const waitlist = await redis.zrange(k.waitlist, 0, -1, 'WITHSCORES');
    return {
      drop: await redis.hgetall(k.drop),
      stock: await redis.get(k.stock),
      fans,
      holds: await redis.zrange(k.holds, 0, -1, 'WITHSCORES'),
      stats: await redis.hgetall(k.stats),
      // The fans with units, and the fans in line (a pass-down would give one of them an order).
      fanOrders: await Promise.all(
        [...Object.keys(fans), ...waitlist.filter((_, i) => i % 2 === 0)].map(async (fan) => [
          fan,
          await redis.lrange(k.fanOrders(fan), 0, -1),
        ]),
      ),
      waitlist,
      parked: await redis.lrange(k.parked, 0, -1),
      events: (await redis.xrange(k.events, '-', '+')).map(
        ([, f]) => f[f.indexOf(OutboxStreamFields.type) + 1],
      ),
      orders: await Promise.all(orderIds.map((id) => redis.hgetall(k.order(id)))),
    };
  }

  it('a payment whose revenue would pass int64 is refused whole, not left half-paid', async () => {
    const def = await newDrop({ priceMinor: 10 ** 12 });
    const order = await held(def);
    expect((await inventory.beginPayment(order.id)).ok).toBe(true);
    // The drop has already taken in nearly int64's worth (as a 10^12-priced drop of 10^7 units
    // would): this payment's HINCRBY cannot fit.
    await redis.hset(dropKeys(def.id).stats, 'revenueMinor', '9223372036854000000');
    const before = await snapshot(def.id, [order.id]);
    await expect(inventory.completePayment(order.id)).rejects.toThrow(/overflow/);
    expect(await snapshot(def.id, [order.id])).toEqual(before);
    expect(before.orders[0].status).toBe('paying');
  });

  it.each([
    ['holdSeconds is not a number', { holdSeconds: 'ten' }],
    ['priceMinor is not a number', { priceMinor: 'NaN' }],
    ['saleStartsAt is NaN (the sale would open at once)', { saleStartsAt: 'NaN' }],
    ['perUserLimit is missing', { perUserLimit: '' }],
  ])('a grab on a drop whose %s writes nothing', async (_what, fields) => {
    const def = await newDrop({ perUserLimit: 5 });
    await redis.hset(dropKeys(def.id).drop, fields);
    const before = await snapshot(def.id);
    await expect(
      inventory.grab({ dropId: def.id, fanId: 'f', quantity: 1, idempotencyKey: 'k' }),
    ).rejects.toThrow(BadRecordError);
    expect(await snapshot(def.id)).toEqual(before);
    expect(await redis.hlen(dropKeys(def.id).idempotency)).toBe(0);
  });

  it('a cancel of an order whose quantity is not a number writes nothing', async () => {
    const def = await newDrop();
    const order = await held(def);
    await redis.hset(dropKeys(def.id).order(order.id), 'quantity', 'x');
    const before = await snapshot(def.id, [order.id]);
    await expect(inventory.cancelOrder(order.id)).rejects.toThrow(BadRecordError);
    expect(await snapshot(def.id, [order.id])).toEqual(before);
  });

  it.each([
    ['holdSeconds is not a number', { holdSeconds: 'ten' }],
    ['priceMinor is missing', { priceMinor: '' }],
    ['perUserLimit is fractional', { perUserLimit: '1.5' }],
  ])('a release down the line on a drop whose %s writes nothing', async (_what, fields) => {
    const def = await newDrop({ quantity: 1 });
    const order = await held(def, 'holder');
    expect((await inventory.joinWaitlist(def.id, 'next')).ok).toBe(true);
    await redis.hset(dropKeys(def.id).drop, fields);
    const before = await snapshot(def.id, [order.id]);
    await expect(inventory.cancelOrder(order.id)).rejects.toThrow(BadRecordError);
    await moveHoldDeadline(redis, order.id, (await redisNow(redis)) - 1);
    const moved = await snapshot(def.id, [order.id]);
    const sweep = await inventory.expireDue(def.id);
    expect(sweep).toMatchObject({ expiredOrders: 0, badRecords: [order.id] });
    expect({ ...(await snapshot(def.id, [order.id])), holds: moved.holds }).toEqual(moved);
    expect(moved.waitlist).toEqual(before.waitlist);
    expect(moved.orders[0].status).toBe('held');
  });

  it('a payment of an order whose deadline is not a number fences nothing', async () => {
    const def = await newDrop();
    const order = await held(def);
    await redis.hdel(dropKeys(def.id).order(order.id), 'expiresAt');
    const before = await snapshot(def.id, [order.id]);
    await expect(inventory.beginPayment(order.id, { idempotencyKey: 'p' })).rejects.toThrow(
      BadRecordError,
    );
    expect(await snapshot(def.id, [order.id])).toEqual(before);
    expect(await redis.hlen(dropKeys(def.id).idempotency)).toBe(0);
  });

  it('the sweep expires the good holds and leaves a bad one alone, reported', async () => {
    const def = await newDrop({ perUserLimit: 3 });
    const orders = [await held(def, 'a'), await held(def, 'b'), await held(def, 'c')];
    const now = await redisNow(redis);
    for (const o of orders) await moveHoldDeadline(redis, o.id, now - 1);
    await redis.hset(dropKeys(def.id).order(orders[1].id), 'quantity', '1.5');
    const sweep = await inventory.expireDue(def.id);
    expect(sweep).toMatchObject({ expiredOrders: 2, unitsReturned: 2, badRecords: [orders[1].id] });
    expect((await inventory.getOrder(orders[0].id))?.status).toBe('expired');
    expect((await inventory.getOrder(orders[1].id))?.status).toBe('held');
    expect(Number(await redis.get(dropKeys(def.id).stock))).toBe(def.quantity - 1);
    // Looked at again later, not on every pass.
    expect((await inventory.expireDue(def.id)).badRecords).toEqual([]);
  });

  it('an edit to a definition with NaN in it writes nothing', async () => {
    const now = await redisNow(redis);
    const def = await newDrop({
      reservationRequired: true,
      reservationOpensAt: now + 60_000,
      reservationClosesAt: now + 120_000,
      saleStartsAt: now + 120_000,
    });
    const before = await snapshot(def.id);
    await expect(inventory.syncDrop({ ...def, saleStartsAt: NaN, version: 2 })).rejects.toThrow(
      BadRecordError,
    );
    await expect(inventory.syncDrop({ ...def, quantity: 1.5, version: 2 })).rejects.toThrow(
      BadRecordError,
    );
    expect(await snapshot(def.id)).toEqual(before);
  });

  it("a sync over a record that fails its check replaces it and, before the sale, sets the stock to the definition's quantity", async () => {
    const now = await redisNow(redis);
    const def = await newDrop({
      quantity: 50,
      reservationRequired: true,
      reservationOpensAt: now + 60_000,
      reservationClosesAt: now + 120_000,
      saleStartsAt: now + 120_000,
    });
    const k = dropKeys(def.id);
    // Not what the scripts wrote: the price no number, the stock gone with it.
    await redis.hset(k.drop, 'priceMinor', 'x');
    await redis.del(k.stock);
    expect(await inventory.syncDrop({ ...def, quantity: 40, version: 2 }, true)).toEqual({
      status: 'synced',
    });
    expect(await redis.hget(k.drop, 'priceMinor')).toBe(String(def.priceMinor));
    expect(await redis.get(k.stock)).toBe('40');
  });
});
