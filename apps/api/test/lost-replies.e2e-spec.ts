import { Inventory, ScriptName } from '@flashdrop/inventory';
import { connectRedis, RedisClient } from '@flashdrop/persistence';
import {
  api,
  ApiBehindProxy,
  debitsOf,
  dropBody,
  DropBody,
  dropKeys,
  eventually,
  fund,
  isoIn,
  openDropBody,
  OrderBody,
  scriptOnTheWire,
  slotPort,
  testConfig,
  testDatabase,
  tokenFor,
  uniqueId,
} from '@flashdrop/testing';
import { DataSource } from 'typeorm';

/**
 * Replies lost between the API and Redis. An API process of this test's own talks to the test
 * stack's Redis through a proxy that lets one script through and cuts the connection before its
 * reply: Redis has run the script, the API never heard. ioredis re-sends the command on the next
 * connection (`autoResendUnfulfilledCommands`, libs/persistence redis.ts), so the script runs a
 * second time with the same arguments: each must find its first run's work and answer it. Every
 * case checks that the script did arrive twice (the proxy saw it twice) and that what it changes
 * changed once.
 */
describe('a reply lost between the API and Redis changes nothing twice', () => {
  const config = testConfig();
  const behind = new ApiBehindProxy(slotPort(7391), slotPort(4306), {
    GRAB_RATE_LIMIT_PER_SECOND: '0',
  });
  const { proxy, baseUrl } = behind;
  let redis: RedisClient;
  let inventory: Inventory;
  let db: DataSource;

  beforeAll(async () => {
    // The stack's Redis, which the test's API reaches through the proxy: one, or the cluster.
    redis = connectRedis(config);
    inventory = new Inventory(redis);
    db = await testDatabase();
    await behind.start();
  }, 60_000);

  afterAll(async () => {
    await behind.stop();
    await db.destroy();
    await redis.quit();
  }, 30_000);

  const brand = () => tokenFor('brand', uniqueId('brand'));
  const fan = (id = uniqueId('fan')) => ({ id, token: tokenFor('fan', id) });
  const stock = async (dropId: string) => Number(await redis.get(dropKeys(dropId).stock));
  const stat = async (dropId: string, field: string) =>
    Number((await redis.hget(dropKeys(dropId).stats, field)) ?? 0);

  /** Runs `call` with the reply of the next `script` lost; answers what the caller got. */
  async function withLostReply<T>(name: ScriptName, call: () => Promise<T>): Promise<T> {
    const markers = scriptOnTheWire(name);
    const before = proxy.seen(markers);
    const cut = proxy.cutAfter(markers);
    const answer = await call();
    await cut;
    // The script reached Redis once before the cut and once more when ioredis re-sent it.
    expect(proxy.seen(markers) - before).toBeGreaterThanOrEqual(2);
    return answer;
  }

  async function newDrop(body: Record<string, unknown>): Promise<DropBody> {
    const res = await api<DropBody>('POST', '/v1/drops', { token: brand(), body, baseUrl });
    expect(res.status).toBe(201);
    return res.body;
  }

  const grab = (dropId: string, token: string, key?: string) =>
    api<OrderBody>('POST', `/v1/drops/${dropId}/purchases`, {
      token,
      baseUrl,
      headers: key ? { 'idempotency-key': key } : undefined,
    });

  it('a grab without an Idempotency-Key: 201, one unit and one order for the fan', async () => {
    const drop = await newDrop(openDropBody({ perUserLimit: 5 }));
    const f = fan();
    const res = await withLostReply('grab', () => grab(drop.id, f.token));
    expect(res.status).toBe(201);
    expect(await stock(drop.id)).toBe(99);
    expect(Number(await redis.hget(dropKeys(drop.id).fans, f.id))).toBe(1);
    expect(await redis.lrange(dropKeys(drop.id).fanOrders(f.id), 0, -1)).toEqual([res.body.id]);
    expect(await stat(drop.id, 'held')).toBe(1);
  });

  it('a grab at the per-fan limit: the fan gets the order, not LIMIT_REACHED', async () => {
    const drop = await newDrop(openDropBody({ perUserLimit: 1 }));
    const f = fan();
    const res = await withLostReply('grab', () => grab(drop.id, f.token));
    expect(res).toMatchObject({ status: 201, body: { status: 'held', fanId: f.id } });
    expect(await stock(drop.id)).toBe(99);
  });

  it('a grab with an Idempotency-Key: the same order again, one unit', async () => {
    const drop = await newDrop(openDropBody({ perUserLimit: 5 }));
    const f = fan();
    const res = await withLostReply('grab', () => grab(drop.id, f.token, 'k-lost'));
    expect(res.status).toBe(201);
    expect((await grab(drop.id, f.token, 'k-lost')).body.id).toBe(res.body.id);
    expect(await stock(drop.id)).toBe(99);
  });

  it('a share: 202, counted once', async () => {
    const drop = await newDrop(dropBody());
    const res = await withLostReply('share', () =>
      api('POST', `/v1/drops/${drop.id}/shares`, {
        token: fan().token,
        body: { channel: 'weibo' },
        baseUrl,
      }),
    );
    expect(res.status).toBe(202);
    expect(await stat(drop.id, 'shares')).toBe(1);
  });

  it('a reservation: one reservation and one referral', async () => {
    const drop = await newDrop(dropBody());
    const f = fan();
    const res = await withLostReply('reserve', () =>
      api<{ reservedAt: string }>('POST', `/v1/drops/${drop.id}/reservations`, {
        token: f.token,
        body: { referrerId: 'someone' },
        baseUrl,
      }),
    );
    expect([200, 201]).toContain(res.status);
    expect(await redis.hlen(dropKeys(drop.id).reservations)).toBe(1);
    expect(await stat(drop.id, 'referrals')).toBe(1);
  });

  it('refusals: the batch the API reports is counted once', async () => {
    const drop = await newDrop(openDropBody());
    await api('POST', `/v1/drops/${drop.id}/pause`, { token: tokenFor('operator'), baseUrl });
    const cut = proxy.cutAfter(scriptOnTheWire('count_refusals'));
    const answers = await Promise.all([1, 2, 3].map(() => grab(drop.id, fan().token)));
    expect(answers.map((a) => a.status)).toEqual([409, 409, 409]);
    await cut;
    expect(
      await eventually(async () => (await stat(drop.id, 'rej:SALE_PAUSED')) >= 3, 5000, 50),
    ).toBe(true);
    // Later flushes (every 250 ms) have had time to repeat the batch, had it been counted again.
    await new Promise((r) => setTimeout(r, 1000));
    expect(await stat(drop.id, 'rej:SALE_PAUSED')).toBe(3);
    expect(await stat(drop.id, 'attempts')).toBe(3);
  });

  it('a cancel: 200 cancelled, the unit back once', async () => {
    const drop = await newDrop(openDropBody());
    const f = fan();
    const order = (await grab(drop.id, f.token)).body;
    const res = await withLostReply('cancel_order', () =>
      api<OrderBody>('POST', `/v1/orders/${order.id}/cancel`, { token: f.token, baseUrl }),
    );
    expect(res).toMatchObject({ status: 200, body: { status: 'cancelled' } });
    expect(await stock(drop.id)).toBe(100);
    expect(await stat(drop.id, 'cancelled')).toBe(1);
  });

  it.each<ScriptName>(['begin_payment', 'complete_payment'])(
    'a payment whose %s reply is lost: 200 paid, debited once, counted once',
    async (script) => {
      const f = fan();
      await fund([f.id], 5_000, baseUrl);
      const drop = await newDrop(openDropBody({ priceMinor: 1_000 }));
      const order = (await grab(drop.id, f.token)).body;
      const res = await withLostReply(script, () =>
        api<OrderBody>('POST', `/v1/orders/${order.id}/payment`, { token: f.token, baseUrl }),
      );
      expect(res).toMatchObject({ status: 200, body: { status: 'paid' } });
      expect((await debitsOf(db, [order.id])).get(order.id)).toEqual({ count: 1, amount: 1_000 });
      expect(await stat(drop.id, 'paid')).toBe(1);
      expect(await stat(drop.id, 'revenueMinor')).toBe(1_000);
      expect(await stock(drop.id)).toBe(99);
    },
  );

  it('a drop edit: the stock moves once', async () => {
    const token = brand();
    const created = await api<DropBody>('POST', '/v1/drops', {
      token,
      baseUrl,
      body: dropBody({
        reservationOpensAt: isoIn(3_600_000),
        reservationClosesAt: isoIn(7_200_000),
        saleStartsAt: isoIn(7_200_000),
      }),
    });
    const res = await withLostReply('mirror_drop', () =>
      api<DropBody>('PATCH', `/v1/drops/${created.body.id}`, {
        token,
        baseUrl,
        body: { quantity: 150 },
      }),
    );
    expect(res).toMatchObject({ status: 200, body: { quantity: 150, remaining: 150 } });
    expect(await stock(created.body.id)).toBe(150);
    expect((await inventory.viewDrop(created.body.id))?.definition.quantity).toBe(150);
  });
});
