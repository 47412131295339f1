import type { RedisClient } from '@flashdrop/persistence';
import { DataSource } from 'typeorm';
import { Inventory } from '@flashdrop/inventory';
import {
  api,
  balancesOf,
  debitsOf,
  fanIds,
  fund,
  heldOrders,
  moveHoldDeadline,
  pay,
  revenueOf,
  tokenFor,
  uniqueId,
  closeStackConnections,
  openStackConnections,
} from '@flashdrop/testing';

/** POST /v1/orders/:id/payment through the running test stack (apps/wallet/PAYMENTS.md). */
describe('paying a held order', () => {
  let redis: RedisClient;
  let inventory: Inventory;
  let db: DataSource;

  beforeAll(async () => ({ redis, inventory, db } = await openStackConnections()));
  afterAll(() => closeStackConnections({ redis, db }));

  it('pays once: 200 paid order, the amount moves from the fan to the brand', async () => {
    const [fan] = fanIds(1);
    await fund([fan], 5_000);
    const { drop, orders } = await heldOrders(inventory, [fan]);
    const res = await pay(orders[0].id, fan);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ id: orders[0].id, status: 'paid', amountMinor: 1_999 });
    expect(res.body.paidAt).toEqual(expect.any(String));
    expect((await balancesOf(db, [fan])).get(fan)).toBe(5_000 - 1_999);
    expect(await revenueOf(db, drop.brandId)).toBe(1_999);
    const again = await pay(orders[0].id, fan);
    expect(again.status).toBe(200);
    expect(again.body).toEqual(res.body);
    expect((await debitsOf(db, [orders[0].id])).get(orders[0].id)).toEqual({
      count: 1,
      amount: 1_999,
    });
  });

  it('50 concurrent payments of one order: one debit, every caller the same paid order', async () => {
    const [fan] = fanIds(1);
    await fund([fan], 10_000);
    const { orders } = await heldOrders(inventory, [fan]);
    const results = await Promise.all(Array.from({ length: 50 }, () => pay(orders[0].id, fan)));
    expect(results.map((r) => r.status)).toEqual(Array(50).fill(200));
    for (const r of results) expect(r.body).toEqual(results[0].body);
    expect(results[0].body.status).toBe('paid');
    expect((await debitsOf(db, [orders[0].id])).get(orders[0].id)?.count).toBe(1);
    expect((await balancesOf(db, [fan])).get(fan)).toBe(10_000 - 1_999);
  }, 30_000);

  it('1,000 orders paid concurrently by 1,000 fans: every balance exact', async () => {
    const fans = fanIds(1_000);
    await fund(fans, 3_000);
    const { drop, orders } = await heldOrders(inventory, fans);
    const results = await Promise.all(orders.map((o) => pay(o.id, o.fanId)));
    expect(results.filter((r) => r.status !== 200).map((r) => r.body)).toEqual([]);
    const balances = await balancesOf(db, fans);
    expect(fans.filter((f) => balances.get(f) !== 3_000 - 1_999)).toEqual([]);
    const debits = await debitsOf(
      db,
      orders.map((o) => o.id),
    );
    expect([...debits.values()].every((d) => d.count === 1 && d.amount === 1_999)).toBe(true);
    expect(debits.size).toBe(1_000);
    expect(await revenueOf(db, drop.brandId)).toBe(1_000 * 1_999);
  }, 120_000);

  it('402 INSUFFICIENT_FUNDS leaves the hold and moves nothing; after a top-up it pays', async () => {
    const [fan] = fanIds(1);
    await fund([fan], 1_000);
    const { orders } = await heldOrders(inventory, [fan]);
    const res = await pay(orders[0].id, fan);
    expect(res.status).toBe(402);
    expect(res.body).toMatchObject({ error: 'INSUFFICIENT_FUNDS' });
    expect((await inventory.getOrder(orders[0].id))?.status).toBe('held');
    expect((await balancesOf(db, [fan])).get(fan)).toBe(1_000);
    expect((await debitsOf(db, [orders[0].id])).size).toBe(0);

    await fund([fan], 1_000);
    const paid = await pay(orders[0].id, fan);
    expect(paid.status).toBe(200);
    expect((await balancesOf(db, [fan])).get(fan)).toBe(2_000 - 1_999);
  });

  it('402 for a fan who never had a wallet, and the hold stays', async () => {
    const [fan] = fanIds(1);
    const { orders } = await heldOrders(inventory, [fan]);
    expect((await pay(orders[0].id, fan)).status).toBe(402);
    expect((await inventory.getOrder(orders[0].id))?.status).toBe('held');
  });

  it('409 HOLD_EXPIRED past the deadline, charging nothing', async () => {
    const [fan] = fanIds(1);
    await fund([fan], 5_000);
    const { orders } = await heldOrders(inventory, [fan]);
    await moveHoldDeadline(redis, orders[0].id, (await inventory.now()) - 1);
    const res = await pay(orders[0].id, fan);
    expect(res.status).toBe(409);
    expect(res.body).toMatchObject({ error: 'HOLD_EXPIRED' });
    expect((await balancesOf(db, [fan])).get(fan)).toBe(5_000);
    expect((await debitsOf(db, [orders[0].id])).size).toBe(0);
  });

  it('409 ORDER_CANCELLED for a cancelled order, charging nothing', async () => {
    const [fan] = fanIds(1);
    await fund([fan], 5_000);
    const { orders } = await heldOrders(inventory, [fan]);
    expect((await inventory.cancelOrder(orders[0].id, fan)).ok).toBe(true);
    const res = await pay(orders[0].id, fan);
    expect(res.status).toBe(409);
    expect(res.body).toMatchObject({ error: 'ORDER_CANCELLED' });
    expect((await balancesOf(db, [fan])).get(fan)).toBe(5_000);
  });

  it('404 for another fan order or an unknown one; 403 for other roles; nothing moves', async () => {
    const [owner, other] = fanIds(2);
    await fund([owner, other], 5_000);
    const { orders } = await heldOrders(inventory, [owner]);
    const foreign = await pay(orders[0].id, other);
    expect(foreign.status).toBe(404);
    expect(foreign.body).toMatchObject({ error: 'NOT_FOUND' });
    expect((await pay(`${orders[0].dropId}-0000000000000000`, owner)).status).toBe(404);
    expect((await pay('not-an-order', owner)).status).toBe(404);
    for (const role of ['brand', 'operator'] as const) {
      const res = await api('POST', `/v1/orders/${orders[0].id}/payment`, {
        token: tokenFor(role),
      });
      expect(res.status).toBe(403);
    }
    expect((await api('POST', `/v1/orders/${orders[0].id}/payment`)).status).toBe(401);
    expect((await inventory.getOrder(orders[0].id))?.status).toBe('held');
    expect((await balancesOf(db, [owner, other])).get(other)).toBe(5_000);
    expect((await debitsOf(db, [orders[0].id])).size).toBe(0);
  });

  it('honours Idempotency-Key: a repeat answers the paid order, another order is refused', async () => {
    const [fan] = fanIds(1);
    await fund([fan], 10_000);
    const { orders } = await heldOrders(inventory, [fan], { quantity: 2, perUserLimit: 2 });
    const second = await inventory.grab({
      dropId: orders[0].dropId,
      fanId: fan,
      quantity: 1,
    });
    if (!second.ok) throw new Error(second.code);
    const key = { 'idempotency-key': uniqueId('pay') };
    const first = await pay(orders[0].id, fan, key);
    expect(first.status).toBe(200);
    expect((await pay(orders[0].id, fan, key)).body).toEqual(first.body);
    const reused = await pay(second.order.id, fan, key);
    expect(reused.status).toBe(409);
    expect(reused.body).toMatchObject({ error: 'IDEMPOTENCY_KEY_REUSED' });
    expect((await inventory.getOrder(second.order.id))?.status).toBe('held');
    const bad = await pay(second.order.id, fan, { 'idempotency-key': 'x'.repeat(129) });
    expect(bad.status).toBe(400);
    expect(bad.body).toMatchObject({ error: 'VALIDATION_FAILED' });
    expect((await balancesOf(db, [fan])).get(fan)).toBe(10_000 - 1_999);
  });
});
