import { connectRedis, RedisClient } from '@flashdrop/persistence';
import {
  api,
  createDrop,
  dropKeys,
  errorOf,
  grabVia,
  openDropBody,
  OrderBody,
  testConfig,
  tokenFor,
  uniqueId,
} from '@flashdrop/testing';

/**
 * What one fan can make a drop keep (issue 11, "Work that grows without bound"): a fan looping
 * grab + cancel used to grow their order list in Redis with every loop, rewritten whole on each
 * grab. Now a fan has at most perUserLimit + ORDERS_BEYOND_LIMIT orders in one drop, stored as
 * a list that a grab appends to, and cancels are rate-limited per fan like grabs.
 */
describe('per-fan bounds on orders and cancels (running stack)', () => {
  let redis: RedisClient;
  beforeAll(() => {
    redis = connectRedis(testConfig());
  });
  afterAll(async () => {
    await redis.quit();
  });

  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

  /** Grabs until one answer is not 429 (the grab rate limit is 10 per fan per second). */
  async function grab(dropId: string, token: string) {
    for (;;) {
      const r = await grabVia(dropId, token);
      if (r.status !== 429) return r;
      await sleep(Number(r.headers.get('retry-after') ?? '1') * 200);
    }
  }

  async function cancel(orderId: string, token: string) {
    for (;;) {
      const r = await api<OrderBody>('POST', `/v1/orders/${orderId}/cancel`, { token });
      if (r.status !== 429) return r;
      await sleep(200);
    }
  }

  it('a fan looping grab + cancel is refused LIMIT_REACHED after perUserLimit + 20 orders, and their list stays that long', async () => {
    const drop = await createDrop(openDropBody({ quantity: 50, perUserLimit: 2 }));
    const fan = uniqueId('fan');
    const token = tokenFor('fan', fan);
    const cap = 2 + 20;
    const orders: string[] = [];
    for (let i = 0; i < cap; i++) {
      const g = await grab(drop.id, token);
      expect(g.status).toBe(201);
      orders.push(g.body.id);
      expect((await cancel(g.body.id, token)).status).toBe(200);
    }
    const refused = await grab(drop.id, token);
    expect(refused.status).toBe(409);
    expect(errorOf(refused)).toBe('LIMIT_REACHED');
    // Nothing was taken by the refusal: stock, the fan's units and their list are as before.
    const k = dropKeys(drop.id);
    expect(Number(await redis.get(k.stock))).toBe(50);
    expect(Number((await redis.hget(k.fans, fan)) ?? 0)).toBe(0);
    expect(await redis.lrange(k.fanOrders(fan), 0, -1)).toEqual(orders);
    // Another fan is not affected.
    expect((await grab(drop.id, tokenFor('fan', uniqueId('fan')))).status).toBe(201);
    // GET /v1/orders still lists every one of the fan's orders.
    const listed = await api<OrderBody[]>('GET', '/v1/orders', { token });
    expect(listed.body.map((o) => o.id).sort()).toEqual([...orders].sort());
  });

  it('a fan whose orders were paid or are held may still reach perUserLimit', async () => {
    const drop = await createDrop(openDropBody({ quantity: 50, perUserLimit: 3 }));
    const fan = uniqueId('fan');
    const token = tokenFor('fan', fan);
    for (let i = 0; i < 20; i++) {
      const g = await grab(drop.id, token);
      expect((await cancel(g.body.id, token)).status).toBe(200);
    }
    // 20 orders ended unpaid: the fan may still hold perUserLimit units.
    for (let i = 0; i < 3; i++) expect((await grab(drop.id, token)).status).toBe(201);
    const over = await grab(drop.id, token);
    expect(errorOf(over)).toBe('LIMIT_REACHED');
  });

  it('cancels are rate-limited per fan: 429 TOO_MANY_REQUESTS with Retry-After, and the order stays held', async () => {
    const drop = await createDrop(openDropBody({ quantity: 100, perUserLimit: 100 }));
    const fan = uniqueId('fan');
    const token = tokenFor('fan', fan);
    const held: string[] = [];
    while (held.length < 15) {
      const g = await grabVia(drop.id, token);
      if (g.status === 201) held.push(g.body.id);
      else await sleep(100);
    }
    const answers = await Promise.all(
      held.map((id) => api<OrderBody>('POST', `/v1/orders/${id}/cancel`, { token })),
    );
    const limited = answers.filter((r) => r.status === 429);
    expect(limited.length).toBeGreaterThan(0);
    for (const r of limited) {
      expect(errorOf(r)).toBe('TOO_MANY_REQUESTS');
      expect(Number(r.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    }
    // A refused cancel changed nothing: those orders are still held, their units still out.
    const k = dropKeys(drop.id);
    for (const [i, r] of answers.entries()) {
      const status = await redis.hget(k.order(held[i]), 'status');
      expect(status).toBe(r.status === 429 ? 'held' : 'cancelled');
    }
    const cancelled = answers.filter((r) => r.status === 200).length;
    expect(Number(await redis.get(k.stock))).toBe(100 - 15 + cancelled);
    // Another fan's cancels are not affected by this fan's limit.
    const other = tokenFor('fan', uniqueId('fan'));
    const g = await grabVia(drop.id, other);
    expect((await api('POST', `/v1/orders/${g.body.id}/cancel`, { token: other })).status).toBe(
      200,
    );
  });

  it('a grab refused by the rate limit answers 429 with Retry-After', async () => {
    const drop = await createDrop(openDropBody({ quantity: 100, perUserLimit: 100 }));
    const token = tokenFor('fan', uniqueId('fan'));
    const answers = await Promise.all(Array.from({ length: 30 }, () => grabVia(drop.id, token)));
    const limited = answers.filter((r) => r.status === 429);
    expect(limited.length).toBeGreaterThan(0);
    for (const r of limited) expect(Number(r.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
  });
});
