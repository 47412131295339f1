import { runAudit } from '@flashdrop/audit';
import { Inventory } from '@flashdrop/inventory';
import { LedgerFacts } from '@flashdrop/ledger';
import {
  api,
  ApiResponse,
  balancesOf,
  closeStackConnections,
  createDrop,
  dropKeys,
  errorOf,
  eventually,
  fanIds,
  fund,
  grabVia,
  moveHoldDeadline,
  openDropBody,
  openStackConnections,
  OrderBody,
  pay,
  revenueOf,
  soakRounds,
  tokenFor,
  uniqueId,
} from '@flashdrop/testing';
import { RedisClient } from '@flashdrop/persistence';
import { DataSource } from 'typeorm';

const PRICE = 10_000;
/** `npm run test:soak` runs SOAK_ROUNDS (20); `npm test` a few. */
const RUNS = process.env.SOAK_ROUNDS ? soakRounds() : 2;

/**
 * POST /v1/orders/:id/refund through the running stack (docs/api.md "Campaigns";
 * apps/wallet/PAYMENTS.md "Refunds"): a paid order's money back to the fan once, however often
 * and concurrently asked; the unit down the waitlist or back to stock; the fan free to buy
 * again; the stats, the ledger and the audit agreeing.
 */
describe('refunds', () => {
  let redis: RedisClient;
  let inventory: Inventory;
  let db: DataSource;

  beforeAll(async () => ({ redis, inventory, db } = await openStackConnections()));
  afterAll(() => closeStackConnections({ redis, db }));

  function refund(orderId: string, token: string, body: unknown = { reason: 'damaged' }) {
    return api<OrderBody & { error?: string }>('POST', `/v1/orders/${orderId}/refund`, {
      token,
      body,
    });
  }

  /** A drop of `quantity` units by a fresh brand, and `paidCount` fans who each paid one unit. */
  async function paidOrders(quantity: number, paidCount: number, extra = {}) {
    const brandId = uniqueId('brand');
    const brand = tokenFor('brand', brandId);
    const drop = await createDrop(openDropBody({ priceMinor: PRICE, quantity, ...extra }), brand);
    const fans = fanIds(paidCount);
    await fund(fans, 3 * PRICE);
    const orders: OrderBody[] = [];
    for (const fan of fans) {
      const grabbed = await grabVia(drop.id, tokenFor('fan', fan), { quantity: 1 });
      expect(grabbed.status).toBe(201);
      const paid = await pay(grabbed.body.id, fan);
      expect(paid.status).toBe(200);
      orders.push(paid.body as unknown as OrderBody);
    }
    return { brandId, brand, drop, fans, orders };
  }

  /** What a refused refund could have written: the order, the money, the drop's stock. */
  async function footprint(orderId: string, fanId: string, brandId: string, dropId: string) {
    const [refunds] = (await db.query(
      `SELECT count(*)::int AS n FROM wallet.transfers WHERE kind = 'refund' AND order_id = $1`,
      [orderId],
    )) as { n: number }[];
    return {
      order: await redis.hgetall(dropKeys(dropId).order(orderId)),
      refunds: refunds.n,
      balance: (await balancesOf(db, [fanId])).get(fanId),
      revenue: await revenueOf(db, brandId),
      stock: await redis.get(dropKeys(dropId).stock),
      refunding: await redis.zcard(dropKeys(dropId).refunding),
    };
  }

  it("the brand refunds a paid order: 200 refunded, the fan's money back once, shown as kind refund; a repeat moves nothing", async () => {
    const { brandId, brand, drop, orders } = await paidOrders(2, 1);
    const [order] = orders;
    const res = await refund(order.id, brand, { reason: 'damaged in transit' });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ id: order.id, status: 'refunded', amountMinor: PRICE });
    expect(res.body.refundedAt).toEqual(expect.any(String));
    expect((await balancesOf(db, [order.fanId])).get(order.fanId)).toBe(3 * PRICE);
    expect(await revenueOf(db, brandId)).toBe(0);
    const fanToken = tokenFor('fan', order.fanId);
    const txs = await api<{ items: { kind: string; amountMinor: number; orderId?: string }[] }>(
      'GET',
      '/v1/wallet/transactions',
      { token: fanToken },
    );
    expect(txs.body.items[0]).toMatchObject({
      kind: 'refund',
      amountMinor: PRICE,
      orderId: order.id,
    });
    const before = await footprint(order.id, order.fanId, brandId, drop.id);
    const again = await refund(order.id, brand, { reason: 'again' });
    expect(again.status).toBe(200);
    expect(again.body).toEqual(res.body);
    expect(await footprint(order.id, order.fanId, brandId, drop.id)).toEqual(before);
    // The fan sees it refunded and may buy again.
    expect((await api('GET', `/v1/orders/${order.id}`, { token: fanToken })).body).toMatchObject({
      status: 'refunded',
    });
    expect((await grabVia(drop.id, fanToken, { quantity: 1 })).status).toBe(201);
    // Stats: refunded units, paid and revenue net of them.
    const operator = tokenFor('operator');
    const agreed = await eventually(async () => {
      const stats = await api<{ refunded: number; paid: number; revenueMinor: number }>(
        'GET',
        `/v1/drops/${drop.id}/stats`,
        { token: operator },
      );
      return stats.body.refunded === 1 && stats.body.paid === 0 && stats.body.revenueMinor === 0;
    }, 20_000);
    expect(agreed).toBe(true);
    const stored = await eventually(async () => {
      const [row] = (await db.query(
        `SELECT status, refund_reason FROM sales.orders WHERE id = $1`,
        [order.id],
      )) as { status: string; refund_reason: string }[];
      return row?.status === 'refunded' && row.refund_reason === 'damaged in transit';
    }, 20_000);
    expect(stored).toBe(true);
    expect((await runAudit(inventory, new LedgerFacts(db), [drop.id])).breaches).toEqual([]);
  }, 60_000);

  it('an operator may refund any order; the unit goes to the next fan in line', async () => {
    const { drop, orders } = await paidOrders(1, 1);
    const waiting = uniqueId('waiting');
    const joined = await api('POST', `/v1/drops/${drop.id}/waitlist`, {
      token: tokenFor('fan', waiting),
    });
    expect(joined.status).toBe(201);
    const res = await refund(orders[0].id, tokenFor('operator'));
    expect(res.status).toBe(200);
    const list = await api<OrderBody[]>('GET', '/v1/orders', { token: tokenFor('fan', waiting) });
    expect(list.body).toEqual([
      expect.objectContaining({ dropId: drop.id, status: 'held', quantity: 1 }),
    ]);
    expect(await redis.get(dropKeys(drop.id).stock)).toBe('0');
  });

  it('refuses, writing nothing: 400 reason, 401, 403 fan, 404 other brand or unknown, 409 ORDER_NOT_PAID', async () => {
    const { brandId, brand, drop, orders } = await paidOrders(3, 1);
    const [order] = orders;
    const heldFan = uniqueId('held');
    const held = await grabVia(drop.id, tokenFor('fan', heldFan), { quantity: 1 });
    expect(held.status).toBe(201);
    const cases: [string, () => Promise<ApiResponse>, number, string, string][] = [
      ['no reason', () => refund(order.id, brand, {}), 400, 'VALIDATION_FAILED', order.id],
      [
        'empty reason',
        () => refund(order.id, brand, { reason: '' }),
        400,
        'VALIDATION_FAILED',
        order.id,
      ],
      [
        'a reason of 201 chars',
        () => refund(order.id, brand, { reason: 'x'.repeat(201) }),
        400,
        'VALIDATION_FAILED',
        order.id,
      ],
      [
        'an unknown field',
        () => refund(order.id, brand, { reason: 'r', amountMinor: 1 }),
        400,
        'VALIDATION_FAILED',
        order.id,
      ],
      [
        'no token',
        () => api('POST', `/v1/orders/${order.id}/refund`, { body: { reason: 'r' } }),
        401,
        'UNAUTHENTICATED',
        order.id,
      ],
      ['a fan', () => refund(order.id, tokenFor('fan', order.fanId)), 403, 'FORBIDDEN', order.id],
      [
        'another brand',
        () => refund(order.id, tokenFor('brand', uniqueId('brand'))),
        404,
        'NOT_FOUND',
        order.id,
      ],
      [
        'an unknown order',
        () => refund(`${drop.id}-0000000000000000`, brand),
        404,
        'NOT_FOUND',
        order.id,
      ],
      ['a malformed order id', () => refund('nope', brand), 404, 'NOT_FOUND', order.id],
      ['a held order', () => refund(held.body.id, brand), 409, 'ORDER_NOT_PAID', held.body.id],
    ];
    for (const [name, call, status, code, touched] of cases) {
      const fan = touched === order.id ? order.fanId : heldFan;
      const before = await footprint(touched, fan, brandId, drop.id);
      const res = await call();
      expect({ name, status: res.status, code: errorOf(res) }).toEqual({ name, status, code });
      expect(await footprint(touched, fan, brandId, drop.id)).toEqual(before);
    }
  });

  it('200 concurrent refunds of one order: every caller 200 refunded, the money moves once', async () => {
    const { brandId, brand, orders } = await paidOrders(1, 1);
    const [order] = orders;
    const results = await Promise.all(
      Array.from({ length: 200 }, (_, i) =>
        refund(order.id, i % 2 ? brand : tokenFor('operator'), { reason: `r${i}` }),
      ),
    );
    expect(results.map((r) => r.status)).toEqual(Array(200).fill(200));
    for (const r of results) expect(r.body.status).toBe('refunded');
    const [{ n }] = (await db.query(
      `SELECT count(*)::int AS n FROM wallet.transfers WHERE kind = 'refund' AND order_id = $1`,
      [order.id],
    )) as { n: number }[];
    expect(n).toBe(1);
    expect((await balancesOf(db, [order.fanId])).get(order.fanId)).toBe(3 * PRICE);
    expect(await revenueOf(db, brandId)).toBe(0);
  }, 60_000);

  it(`refunds racing the sweeper, cancels and payments of the holds passed down (${RUNS} runs): every unit once, money exact, audit clean`, async () => {
    for (let run = 0; run < RUNS; run++) {
      const UNITS = 12;
      const { brandId, brand, drop, orders } = await paidOrders(UNITS, UNITS, { holdSeconds: 10 });
      const waiting = fanIds(UNITS);
      await fund(waiting, 3 * PRICE);
      for (const fan of waiting) {
        const joined = await api('POST', `/v1/drops/${drop.id}/waitlist`, {
          token: tokenFor('fan', fan),
        });
        expect(joined.status).toBe(201);
      }
      // Every refund at once; as each unit reaches a waiting fan, that hold is paid, cancelled
      // or left to the sweeper (its deadline moved to now).
      const fate = async (fan: string, i: number) => {
        const token = tokenFor('fan', fan);
        const found = await eventually(async () => {
          const list = await api<OrderBody[]>('GET', '/v1/orders', { token });
          return list.body.some((o) => o.dropId === drop.id);
        }, 20_000);
        if (!found) return;
        const [hold] = (await api<OrderBody[]>('GET', '/v1/orders', { token })).body;
        if (i % 3 === 0) await pay(hold.id, fan);
        else if (i % 3 === 1) await api('POST', `/v1/orders/${hold.id}/cancel`, { token });
        else await moveHoldDeadline(redis, hold.id, Date.now() - 1);
      };
      const answers = await Promise.all([
        ...orders.map((o) => refund(o.id, brand)),
        ...waiting.map((fan, i) => fate(fan, i).then(() => undefined)),
      ]);
      for (const a of answers.slice(0, UNITS)) expect(a?.status).toBe(200);
      const settled = await eventually(async () => {
        const c = await inventory.counters(drop.id);
        return c.held === 0;
      }, 30_000);
      expect(settled).toBe(true);
      const c = await inventory.counters(drop.id);
      const stock = Number(await redis.get(dropKeys(drop.id).stock));
      expect(c.refunded).toBe(UNITS);
      expect(stock + c.paid).toBe(UNITS);
      const paidNow = Math.ceil(UNITS / 3);
      expect(c.paid).toBe(paidNow);
      expect(await revenueOf(db, brandId)).toBe(paidNow * PRICE);
      const balances = await balancesOf(
        db,
        orders.map((o) => o.fanId),
      );
      for (const o of orders) expect(balances.get(o.fanId)).toBe(3 * PRICE);
      const audit = await runAudit(inventory, new LedgerFacts(db), [drop.id]);
      expect(audit.breaches).toEqual([]);
    }
  }, 240_000);
});
