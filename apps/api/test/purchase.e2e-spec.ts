import { Inventory } from '@flashdrop/inventory';
import { createRedis } from '@flashdrop/persistence';
import {
  api,
  createDrop,
  dropBody,
  errorOf,
  eventually,
  getDrop,
  grabVia,
  isoIn,
  fund,
  mapLimit,
  moveHoldDeadline,
  openDropBody,
  OrderBody,
  pay,
  redisNow,
  setDropTimes,
  testConfig,
  testDatabase,
  tokenFor,
  uniqueId,
} from '@flashdrop/testing';
import Redis from 'ioredis';
import { DataSource } from 'typeorm';

/** The grab and the fan's orders (docs/api.md "Fans") through the running test stack. */
describe('purchases and orders (running stack)', () => {
  let redis: Redis;
  let inventory: Inventory;
  let pg: DataSource;

  beforeAll(async () => {
    redis = createRedis(testConfig().REDIS_URL);
    inventory = new Inventory(redis);
    pg = await testDatabase();
  });
  afterAll(async () => {
    await pg.destroy();
    await redis.quit();
  });

  interface Fan {
    id: string;
    token: string;
  }
  const newFan = (): Fan => {
    const id = uniqueId('fan');
    return { id, token: tokenFor('fan', id) };
  };

  /** A reservation drop whose listed fans reserved; then its sale is opened (test-only). */
  async function reservedDropOnSale(fans: Fan[], overrides: Record<string, unknown> = {}) {
    const drop = await createDrop(dropBody(overrides));
    await mapLimit(fans, 100, (f) =>
      api('POST', `/v1/drops/${drop.id}/reservations`, { token: f.token, body: {} }),
    );
    // Close the window one millisecond after the sale clock's now: a reservation taken in this
    // very millisecond still lies inside [opens, closes), as the audit checks.
    const now = (await redisNow(redis)) + 1;
    await setDropTimes(redis, drop.id, { reservationClosesAt: now, saleStartsAt: now });
    // The sale opens at `now`: a grab must not arrive within that same millisecond (the lean
    // grab route answers fast enough to, and then rightly says SALE_NOT_STARTED).
    while ((await redisNow(redis)) < now) await new Promise((r) => setTimeout(r, 1));
    return drop;
  }

  it('the rush over HTTP: 2,000 concurrent grabs from 1,000 reserved fans, 100 units', async () => {
    const fans = Array.from({ length: 1000 }, newFan);
    const drop = await reservedDropOnSale(fans, { quantity: 100 });
    expect((await getDrop(drop.id)).reservations).toBe(1000);
    const results = await Promise.all([...fans, ...fans].map((f) => grabVia(drop.id, f.token)));
    const created = results.filter((r) => r.status === 201);
    expect(created).toHaveLength(100);
    for (const r of results) {
      if (r.status !== 201) {
        expect(r.status).toBe(409);
        expect(['SOLD_OUT', 'LIMIT_REACHED']).toContain(errorOf(r));
      }
    }
    const perFan = new Map<string, number>();
    for (const r of created) perFan.set(r.body.fanId, (perFan.get(r.body.fanId) ?? 0) + 1);
    expect(Math.max(...perFan.values())).toBe(1);
    expect(await getDrop(drop.id)).toMatchObject({ remaining: 0, phase: 'sold_out' });
  }, 60_000);

  it('one fan with perUserLimit 2 never holds more than 2 units', async () => {
    const fan = newFan();
    const drop = await reservedDropOnSale([fan], { perUserLimit: 2 });
    const results = await Promise.all(
      Array.from({ length: 60 }, () => grabVia(drop.id, fan.token)),
    );
    const held = results.filter((r) => r.status === 201);
    expect(held.length).toBeLessThanOrEqual(2);
    for (const r of results) {
      if (r.status !== 201) expect(['LIMIT_REACHED', 'TOO_MANY_REQUESTS']).toContain(errorOf(r));
    }
    expect((await getDrop(drop.id)).remaining).toBe(100 - held.length);
  });

  it('answers 429 TOO_MANY_REQUESTS to a fan hammering the grab', async () => {
    const drop = await createDrop(openDropBody({ perUserLimit: 100, quantity: 1000 }));
    const fan = newFan();
    const results = await Promise.all(
      Array.from({ length: 40 }, () => grabVia(drop.id, fan.token)),
    );
    const limited = results.filter((r) => r.status === 429);
    expect(limited.length).toBeGreaterThanOrEqual(20);
    expect(errorOf(limited[0])).toBe('TOO_MANY_REQUESTS');
    const held = results.filter((r) => r.status === 201).length;
    expect((await getDrop(drop.id)).remaining).toBe(1000 - held);
  });

  describe('refusals write nothing', () => {
    async function expectRefused(
      dropId: string,
      fan: Fan,
      status: number,
      code: string,
      body?: unknown,
    ) {
      const before = await getDrop(dropId);
      const res = await grabVia(dropId, fan.token, body);
      expect(res.status).toBe(status);
      expect(errorOf(res)).toBe(code);
      expect((await getDrop(dropId)).remaining).toBe(before.remaining);
      const orders = await api<OrderBody[]>('GET', '/v1/orders', { token: fan.token });
      expect(orders.body).toEqual([]);
    }

    it('403 NOT_RESERVED for a fan who did not reserve', async () => {
      const drop = await reservedDropOnSale([newFan()]);
      await expectRefused(drop.id, newFan(), 403, 'NOT_RESERVED');
    });

    it('409 SALE_NOT_STARTED before the sale', async () => {
      const fan = newFan();
      const drop = await createDrop(dropBody());
      await api('POST', `/v1/drops/${drop.id}/reservations`, { token: fan.token, body: {} });
      await expectRefused(drop.id, fan, 409, 'SALE_NOT_STARTED');
    });

    it('409 SALE_ENDED after the sale', async () => {
      const drop = await createDrop(
        openDropBody({ saleStartsAt: isoIn(-60_000), saleEndsAt: isoIn(-1_000) }),
      );
      expect(drop.phase).toBe('ended');
      await expectRefused(drop.id, newFan(), 409, 'SALE_ENDED');
    });

    it('409 SALE_PAUSED while paused, and grabs again after resume', async () => {
      const brand = tokenFor('brand', uniqueId('brand'));
      const drop = await createDrop(openDropBody(), brand);
      await api('POST', `/v1/drops/${drop.id}/pause`, { token: brand });
      const fan = newFan();
      await expectRefused(drop.id, fan, 409, 'SALE_PAUSED');
      await api('POST', `/v1/drops/${drop.id}/resume`, { token: brand });
      expect((await grabVia(drop.id, fan.token)).status).toBe(201);
    });

    it('409 SOLD_OUT when nothing is left', async () => {
      const drop = await createDrop(openDropBody({ quantity: 1 }));
      expect((await grabVia(drop.id, newFan().token)).status).toBe(201);
      await expectRefused(drop.id, newFan(), 409, 'SOLD_OUT');
    });

    it('409 LIMIT_REACHED past the per-fan limit', async () => {
      const drop = await createDrop(openDropBody({ perUserLimit: 2 }));
      const fan = newFan();
      expect((await grabVia(drop.id, fan.token, { quantity: 2 })).status).toBe(201);
      const res = await grabVia(drop.id, fan.token);
      expect(res.status).toBe(409);
      expect(errorOf(res)).toBe('LIMIT_REACHED');
      expect((await getDrop(drop.id)).remaining).toBe(98);
    });

    it.each([
      ['quantity 0', { quantity: 0 }],
      ['quantity 101', { quantity: 101 }],
      ['a fractional quantity', { quantity: 1.5 }],
      ['a string quantity', { quantity: '1' }],
      ['an unknown field', { quantity: 1, coupon: 'x' }],
      ['a JSON array', [1]],
      ['quantity above the drop perUserLimit', { quantity: 2 }],
    ])('400 VALIDATION_FAILED for %s', async (_n, body) => {
      const drop = await createDrop(openDropBody());
      await expectRefused(drop.id, newFan(), 400, 'VALIDATION_FAILED', body);
    });

    it('400 for malformed JSON and for a bad Idempotency-Key', async () => {
      const drop = await createDrop(openDropBody());
      const fan = newFan();
      const raw = await api('POST', `/v1/drops/${drop.id}/purchases`, {
        token: fan.token,
        rawBody: '{"quantity": ',
      });
      expect(raw.status).toBe(400);
      const key = await grabVia(drop.id, fan.token, {}, 'x'.repeat(129));
      expect(key.status).toBe(400);
      expect((await getDrop(drop.id)).remaining).toBe(100);
    });

    it('404 for an unknown drop, 401 without a token, 403 for a brand', async () => {
      expect((await grabVia('d000000000000', newFan().token)).status).toBe(404);
      expect((await grabVia('nope', newFan().token)).status).toBe(404);
      const drop = await createDrop(openDropBody());
      expect((await api('POST', `/v1/drops/${drop.id}/purchases`)).status).toBe(401);
      expect((await grabVia(drop.id, tokenFor('brand'))).status).toBe(403);
      expect((await getDrop(drop.id)).remaining).toBe(100);
    });
  });

  it('Idempotency-Key: repeats get the first answer and no second hold', async () => {
    const drop = await createDrop(openDropBody({ perUserLimit: 5 }));
    const fan = newFan();
    const results = await Promise.all(
      Array.from({ length: 5 }, () => grabVia(drop.id, fan.token, undefined, 'checkout-1')),
    );
    expect(results.every((r) => r.status === 201)).toBe(true);
    expect(new Set(results.map((r) => r.body.id)).size).toBe(1);
    expect((await getDrop(drop.id)).remaining).toBe(99);
    const other = await grabVia(drop.id, fan.token, undefined, 'checkout-2');
    expect(other.status).toBe(201);
    expect(other.body.id).not.toBe(results[0].body.id);
  });

  describe('orders', () => {
    async function heldOrder(overrides: Record<string, unknown> = {}) {
      const drop = await createDrop(openDropBody(overrides));
      const fan = newFan();
      const res = await grabVia(drop.id, fan.token);
      expect(res.status).toBe(201);
      return { drop, fan, order: res.body };
    }

    it('a 201 is an Order held until expiresAt, readable at once', async () => {
      const { drop, fan, order } = await heldOrder();
      expect(order).toEqual({
        id: expect.any(String),
        dropId: drop.id,
        fanId: fan.id,
        quantity: 1,
        amountMinor: 199_900,
        currency: 'CNY',
        status: 'held',
        createdAt: expect.any(String),
        expiresAt: expect.any(String),
      });
      expect(Date.parse(order.expiresAt) - Date.parse(order.createdAt as string)).toBe(600_000);
      const read = await api('GET', `/v1/orders/${order.id}`, { token: fan.token });
      expect(read).toMatchObject({ status: 200, body: order });
      const list = await api<OrderBody[]>('GET', '/v1/orders', { token: fan.token });
      expect(list.body).toEqual([order]);
    });

    it("hides other fans' orders (404) and refuses brands (403)", async () => {
      const { order } = await heldOrder();
      const other = newFan();
      expect((await api('GET', `/v1/orders/${order.id}`, { token: other.token })).status).toBe(404);
      expect((await api('GET', `/v1/orders/garbage`, { token: other.token })).status).toBe(404);
      expect((await api<OrderBody[]>('GET', '/v1/orders', { token: other.token })).body).toEqual(
        [],
      );
      const cancel = await api('POST', `/v1/orders/${order.id}/cancel`, { token: other.token });
      expect(cancel.status).toBe(404);
      expect((await inventory.getOrder(order.id))?.status).toBe('held');
      expect(
        (await api('GET', `/v1/orders/${order.id}`, { token: tokenFor('brand') })).status,
      ).toBe(403);
    });

    it('cancel returns the units at once; a repeat is 200 again', async () => {
      const { drop, fan, order } = await heldOrder();
      const res = await api<OrderBody>('POST', `/v1/orders/${order.id}/cancel`, {
        token: fan.token,
      });
      expect(res).toMatchObject({ status: 200, body: { id: order.id, status: 'cancelled' } });
      expect((await getDrop(drop.id)).remaining).toBe(100);
      const again = await api('POST', `/v1/orders/${order.id}/cancel`, { token: fan.token });
      expect(again.status).toBe(200);
      expect((await getDrop(drop.id)).remaining).toBe(100);
    });

    it('cancel answers 409 ORDER_PAID for a paid order, PAYMENT_IN_PROGRESS while paying', async () => {
      const { drop, fan, order } = await heldOrder({ perUserLimit: 2 });
      await fund([fan.id], order.amountMinor);
      await inventory.beginPayment(order.id);
      const paying = await api('POST', `/v1/orders/${order.id}/cancel`, { token: fan.token });
      expect(paying.status).toBe(409);
      expect(errorOf(paying)).toBe('PAYMENT_IN_PROGRESS');
      // The fan's payment joins the attempt begun above; the wallet debits it, the order is paid.
      expect((await pay(order.id, fan.id)).status).toBe(200);
      const paid = await api('POST', `/v1/orders/${order.id}/cancel`, { token: fan.token });
      expect(paid.status).toBe(409);
      expect(errorOf(paid)).toBe('ORDER_PAID');
      expect((await getDrop(drop.id)).remaining).toBe(99);
      const read = await api<OrderBody>('GET', `/v1/orders/${order.id}`, { token: fan.token });
      expect(read.body).toMatchObject({ status: 'paid', paidAt: expect.any(String) });
    });

    it('the sweeper expires a hold at its deadline and returns the units (within ~1 s)', async () => {
      const { drop, fan, order } = await heldOrder();
      const deadline = (await redisNow(redis)) + 300;
      await moveHoldDeadline(redis, order.id, deadline);
      const back = await eventually(
        async () => (await getDrop(drop.id)).remaining === 100,
        10_000,
        20,
      );
      const lateBy = (await redisNow(redis)) - deadline;
      console.log(`units back ${lateBy} ms after the deadline`);
      expect(back).toBe(true);
      const read = await api<OrderBody>('GET', `/v1/orders/${order.id}`, { token: fan.token });
      expect(read.body.status).toBe('expired');
      const cancel = await api('POST', `/v1/orders/${order.id}/cancel`, { token: fan.token });
      expect(errorOf(cancel)).toBe('HOLD_EXPIRED');
    });

    it('a paid order is never expired, even with the sweeper at its deadline', async () => {
      const { drop, fan, order } = await heldOrder();
      await fund([fan.id], order.amountMinor);
      expect((await pay(order.id, fan.id)).status).toBe(200);
      await moveHoldDeadline(redis, order.id, (await redisNow(redis)) - 1);
      await new Promise((r) => setTimeout(r, 1000));
      expect((await inventory.getOrder(order.id))?.status).toBe('paid');
      expect((await getDrop(drop.id)).remaining).toBe(99);
    });

    it('orders are persisted to PostgreSQL from the stream, with their latest status', async () => {
      const { fan, order } = await heldOrder();
      await api('POST', `/v1/orders/${order.id}/cancel`, { token: fan.token });
      const persisted = await eventually(async () => {
        const rows: { status: string }[] = await pg.query(
          'SELECT status FROM sales.orders WHERE id = $1',
          [order.id],
        );
        return rows[0]?.status === 'cancelled';
      }, 10_000);
      expect(persisted).toBe(true);
    });
  });
});
