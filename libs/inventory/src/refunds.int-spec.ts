import type { RedisClient } from '@flashdrop/persistence';
import {
  createOpenDrop,
  heldOrder,
  outboxEvents,
  redisNow,
  SaleRedisFixture,
  setDropTimes,
  slotPort,
} from '@flashdrop/testing';

import { dropKeys } from './keys';
import { DropDefinition, Inventory, InventoryOrder } from './index';

/**
 * The refund's two steps in Redis (begin_refund.lua, complete_refund.lua) against a Redis of
 * this test's own: the `refunding` fence no other transition touches, and the freed unit passed
 * down the waitlist (or to stock) the one way every release is. The wallet's half is tested
 * through the stack (apps/api/test/campaigns/refunds.e2e-spec.ts).
 */
describe('refunds in the scripts (real Redis)', () => {
  const own = new SaleRedisFixture({ port: slotPort(6372) });
  let redis: RedisClient;
  let inventory: Inventory;

  beforeAll(async () => {
    ({ redis, inventory } = await own.open());
  }, 30_000);
  afterAll(() => own.close());

  const newDrop = (overrides: Partial<DropDefinition> = {}) => createOpenDrop(inventory, overrides);

  async function paid(dropId: string, fanId: string, quantity = 1): Promise<InventoryOrder> {
    const order = await heldOrder(inventory, { dropId, fanId, quantity });
    expect((await inventory.beginPayment(order.id)).ok).toBe(true);
    const done = await inventory.completePayment(order.id);
    if (!done.ok) throw new Error(`not paid: ${done.code}`);
    return done.value;
  }

  const events = (dropId: string) => outboxEvents(redis, dropId);

  /** Every key of the drop with its whole content. */
  async function snapshot(dropId: string) {
    const keys = (await redis.keys(`{d:${dropId}}:*`)).sort();
    const out: Record<string, unknown> = {};
    for (const key of keys) {
      const type = await redis.type(key);
      if (type === 'string') out[key] = await redis.get(key);
      else if (type === 'hash') out[key] = await redis.hgetall(key);
      else if (type === 'zset') out[key] = await redis.zrange(key, 0, -1, 'WITHSCORES');
      else if (type === 'list') out[key] = await redis.lrange(key, 0, -1);
      else if (type === 'stream') out[key] = await redis.xrange(key, '-', '+');
      else if (type === 'set') out[key] = (await redis.smembers(key)).sort();
    }
    return out;
  }

  it('paid -> refunding -> refunded: stats net of the refund, the fan may buy again, the unit back to stock', async () => {
    const def = await newDrop({ quantity: 3, perUserLimit: 2 });
    const order = await paid(def.id, 'fan', 2);
    const begun = await inventory.beginRefund(order.id, 'damaged in transit');
    expect(begun).toMatchObject({
      ok: true,
      value: { joined: false, repeat: false, order: { status: 'refunding' } },
    });
    expect(await redis.zscore(dropKeys(def.id).refunding, order.id)).not.toBeNull();
    const done = await inventory.completeRefund(order.id);
    expect(done).toMatchObject({
      ok: true,
      value: { status: 'refunded', refundReason: 'damaged in transit' },
    });
    expect(await redis.zcard(dropKeys(def.id).refunding)).toBe(0);
    // Refunded, no longer under way: the fence's mark goes (the recovery job reads it).
    expect(await redis.hexists(dropKeys(def.id).order(order.id), 'refundingSince')).toBe(0);
    const c = await inventory.counters(def.id);
    expect(c).toMatchObject({ paid: 0, refunded: 2, revenueMinor: 0, held: 0 });
    expect(Number(await redis.get(dropKeys(def.id).stock))).toBe(3);
    expect(Number((await redis.hget(dropKeys(def.id).fans, 'fan')) ?? 0)).toBe(0);
    const refundedEvents = (await events(def.id)).filter((e) => e.type === 'order.refunded');
    expect(refundedEvents.map((e) => e.data)).toEqual([
      {
        dropId: def.id,
        orderId: order.id,
        fanId: 'fan',
        quantity: 2,
        amountMinor: order.amountMinor,
        reason: 'damaged in transit',
        remaining: 3,
      },
    ]);
    // The fan buys again, up to their limit.
    expect((await inventory.grab({ dropId: def.id, fanId: 'fan', quantity: 2 })).ok).toBe(true);
  });

  it("a refunded order's share discount leaves the drop's discount total with it", async () => {
    const def = await newDrop({ quantity: 2, shareDiscountMinor: 100 });
    expect((await inventory.share(def.id, 'sharer', 'weibo')).ok).toBe(true);
    const order = await paid(def.id, 'sharer');
    expect(order.discountMinor).toBe(100);
    expect((await inventory.counters(def.id)).discountsMinor).toBe(100);
    await inventory.beginRefund(order.id, 'changed my mind');
    expect((await inventory.completeRefund(order.id)).ok).toBe(true);
    expect(await inventory.counters(def.id)).toMatchObject({ discountsMinor: 0, revenueMinor: 0 });
  });

  it('a repeat answers the refunded order and writes nothing; a second begin joins the refund under way', async () => {
    const def = await newDrop({ quantity: 2 });
    const order = await paid(def.id, 'fan');
    await inventory.beginRefund(order.id, 'first');
    expect(await inventory.beginRefund(order.id, 'second')).toMatchObject({
      ok: true,
      value: { joined: true, repeat: false, order: { refundReason: 'first' } },
    });
    await inventory.completeRefund(order.id);
    const before = await snapshot(def.id);
    expect(await inventory.beginRefund(order.id, 'again')).toMatchObject({
      ok: true,
      value: { repeat: true, order: { status: 'refunded', refundReason: 'first' } },
    });
    expect((await inventory.completeRefund(order.id)).ok).toBe(true);
    expect(await snapshot(def.id)).toEqual(before);
  });

  it('refuses every order not paid with ORDER_NOT_PAID, writing nothing', async () => {
    const def = await newDrop({ quantity: 10 });
    const held = await inventory.grab({ dropId: def.id, fanId: 'h', quantity: 1 });
    const paying = await inventory.grab({ dropId: def.id, fanId: 'p', quantity: 1 });
    const cancelled = await inventory.grab({ dropId: def.id, fanId: 'c', quantity: 1 });
    if (!held.ok || !paying.ok || !cancelled.ok) throw new Error('grab refused');
    await inventory.beginPayment(paying.order.id);
    await inventory.cancelOrder(cancelled.order.id);
    for (const id of [held.order.id, paying.order.id, cancelled.order.id]) {
      const before = await snapshot(def.id);
      expect(await inventory.beginRefund(id, 'why')).toMatchObject({
        ok: false,
        code: 'ORDER_NOT_PAID',
      });
      expect(await inventory.completeRefund(id)).toMatchObject({
        ok: false,
        code: 'ORDER_NOT_PAID',
      });
      expect(await snapshot(def.id)).toEqual(before);
    }
    expect(await inventory.beginRefund(`${def.id}-0000000000000000`, 'why')).toEqual({
      ok: false,
      code: 'NOT_FOUND',
    });
  });

  it('no other transition touches a refund under way: cancel, payment, expiry', async () => {
    const def = await newDrop({ quantity: 1, holdSeconds: 10 });
    const order = await paid(def.id, 'fan');
    await inventory.beginRefund(order.id, 'why');
    const before = await snapshot(def.id);
    expect((await inventory.cancelOrder(order.id)).ok).toBe(false);
    expect((await inventory.beginPayment(order.id)).ok).toBe(false);
    // answers the order as it is, moves nothing
    expect((await inventory.abortPayment(order.id, Number(order.paidAt))).ok).toBe(true);
    await redis.hset(dropKeys(def.id).order(order.id), 'expiresAt', 1);
    await inventory.expireDue(def.id);
    await redis.hset(dropKeys(def.id).order(order.id), 'expiresAt', order.expiresAt);
    expect(await snapshot(def.id)).toEqual(before);
    expect((await inventory.completeRefund(order.id)).ok).toBe(true);
  });

  it('the freed unit goes to the next fan in line, priced for them; parked while paused', async () => {
    const def = await newDrop({ quantity: 2 });
    const a = await paid(def.id, 'buyer-a');
    const b = await paid(def.id, 'buyer-b');
    await inventory.joinWaitlist(def.id, 'waiting');
    await inventory.beginRefund(a.id, 'why');
    await inventory.completeRefund(a.id);
    const tail = (await events(def.id)).slice(-2);
    expect(tail.map((e) => e.type)).toEqual(['order.refunded', 'hold.backfilled']);
    expect(tail[1].data).toMatchObject({ fanId: 'waiting', fromOrderId: a.id, quantity: 1 });
    expect(await redis.zcard(dropKeys(def.id).waitlist)).toBe(0);
    // Paused: the refunded unit waits parked for the resume.
    expect((await inventory.setPaused(def.id, true)).ok).toBe(true);
    await inventory.beginRefund(b.id, 'why');
    await inventory.completeRefund(b.id);
    expect(await redis.lrange(dropKeys(def.id).parked, 0, -1)).toEqual([b.id]);
    expect(Number(await redis.get(dropKeys(def.id).stock))).toBe(0);
  });

  it('after saleEndsAt the unit goes back to stock, not to the line', async () => {
    const now = await redisNow(redis);
    const def = await newDrop({ quantity: 1 });
    const a = await paid(def.id, 'buyer');
    await inventory.joinWaitlist(def.id, 'waiting');
    await setDropTimes(redis, def.id, { saleEndsAt: now - 1 });
    await inventory.beginRefund(a.id, 'why');
    await inventory.completeRefund(a.id);
    expect(Number(await redis.get(dropKeys(def.id).stock))).toBe(1);
    expect(await redis.zrange(dropKeys(def.id).waitlist, 0, -1)).toEqual(['waiting']);
  });

  it('lists the refunds under way for the recovery job', async () => {
    const def = await newDrop({ quantity: 2 });
    const a = await paid(def.id, 'a');
    const b = await paid(def.id, 'b');
    const begun = await inventory.beginRefund(a.id, 'why');
    await inventory.beginRefund(b.id, 'why');
    await inventory.completeRefund(b.id);
    const now = await redisNow(redis);
    const attempt = begun.ok ? begun.value.order.refundingSince : undefined;
    expect(attempt).toEqual(expect.any(Number));
    expect(await inventory.refundsUnderWay(def.id, now, 10)).toEqual([{ orderId: a.id, attempt }]);
    expect(await inventory.refundsUnderWay(def.id, now - 60_000, 10)).toEqual([]);
  });

  it("a declined attempt's abort puts the order back to paid exactly as before the refund began, once, and never another attempt's", async () => {
    const def = await newDrop({ quantity: 2 });
    const order = await paid(def.id, 'fan');
    const before = await snapshot(def.id);
    const begun = await inventory.beginRefund(order.id, 'the brand cannot pay');
    const attempt = begun.ok ? begun.value.order.refundingSince : undefined;
    if (attempt === undefined) throw new Error('begin_refund gave no attempt');

    // Another attempt's number (a stale caller of an older refund) changes nothing.
    expect(await inventory.abortRefund(order.id, attempt - 1)).toMatchObject({
      ok: true,
      value: { aborted: false, order: { status: 'refunding', refundingSince: attempt } },
    });
    const aborted = await inventory.abortRefund(order.id, attempt);
    expect(aborted).toMatchObject({
      ok: true,
      value: { aborted: true, order: { status: 'paid' } },
    });
    // Nothing of the refund is left: the order, the stats, the stock, the fan's units and the
    // refunds under way are as they were before begin_refund. The stream has the refund's
    // beginning and its decline (order persistence stores the order refunding, then paid).
    const withoutEvents = (all: Record<string, unknown>) =>
      Object.fromEntries(Object.entries(all).filter(([key]) => key !== dropKeys(def.id).events));
    expect(withoutEvents(await snapshot(def.id))).toEqual(withoutEvents(before));
    const refundEvents = (await events(def.id)).slice(-2);
    expect(refundEvents).toMatchObject([
      { type: 'order.refunding', data: { orderId: order.id, fanId: 'fan', attempt } },
      { type: 'order.refund_declined', data: { orderId: order.id, fanId: 'fan', attempt } },
    ]);
    const after = await snapshot(def.id);
    // A second abort of the same attempt (the API's caller and the recovery both abort) is a no-op.
    expect(await inventory.abortRefund(order.id, attempt)).toMatchObject({
      ok: true,
      value: { aborted: false, order: { status: 'paid' } },
    });
    expect(await snapshot(def.id)).toEqual(after);

    // A new refund (a later millisecond: the attempt is begin_refund's clock) is a later
    // attempt; a late abort of the declined one leaves it under way.
    await new Promise((resolve) => setTimeout(resolve, 5));
    const again = await inventory.beginRefund(order.id, 'funded now');
    const next = again.ok ? again.value.order.refundingSince : undefined;
    expect(next).toBeGreaterThan(attempt);
    expect(await inventory.abortRefund(order.id, attempt)).toMatchObject({
      ok: true,
      value: { aborted: false, order: { status: 'refunding', refundingSince: next } },
    });
    expect(await redis.zscore(dropKeys(def.id).refunding, order.id)).toBe(String(next));
    expect((await inventory.abortRefund(`${def.id}-nope`, attempt)).ok).toBe(false);
  });
});
