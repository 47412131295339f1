import { OutboxStreamFields } from '@flashdrop/events';
import type { RedisClient } from '@flashdrop/persistence';
import {
  createOpenDrop,
  heldOrder,
  moveHoldDeadline,
  redisNow,
  SaleRedisFixture,
  setDropTimes,
  slotPort,
  uniqueId,
} from '@flashdrop/testing';
import { dropKeys } from './keys';
import {
  allocationKindOf,
  DropDefinition,
  Inventory,
  InventoryOrder,
  ORDERS_BEYOND_LIMIT,
} from './index';

/**
 * The waitlist and the release path that passes units down it (join_waitlist.lua, _lib.lua
 * hand_down, hand_down_parked.lua), against a real Redis of this test's own: no worker runs on
 * it, so the tests decide when holds expire and read every event before anything trims it.
 */
describe('the waitlist and the release pass-down (Lua scripts on the real Redis)', () => {
  const own = new SaleRedisFixture({ port: slotPort(6399), clientCount: 6 });
  let redis: RedisClient;
  let inventory: Inventory;
  let clients: Inventory[];

  beforeAll(async () => {
    ({ redis, inventory, clients } = await own.open());
  }, 30_000);
  afterAll(() => own.close());

  const newDrop = (overrides: Partial<DropDefinition> = {}) => createOpenDrop(inventory, overrides);

  const held = (dropId: string, fanId: string, quantity = 1) =>
    heldOrder(inventory, { dropId, fanId, quantity });

  /** A drop of `quantity` units, all held by `holders` fans (one each): sold out. */
  async function soldOut(quantity: number, overrides: Partial<DropDefinition> = {}) {
    const def = await newDrop({ quantity, ...overrides });
    const holds: InventoryOrder[] = [];
    for (let i = 0; i < quantity; i++) holds.push(await held(def.id, `holder-${i}`));
    return { def, holds };
  }

  async function join(dropId: string, fanId: string) {
    const r = await inventory.joinWaitlist(dropId, fanId);
    if (!r.ok) throw new Error(`join refused: ${r.code}`);
    return r.value;
  }

  async function events(dropId: string) {
    const entries = await redis.xrange(dropKeys(dropId).events, '-', '+');
    return entries.map(([, flat]) => {
      const f: Record<string, string> = {};
      for (let i = 0; i < flat.length; i += 2) f[flat[i]] = flat[i + 1];
      return {
        type: f[OutboxStreamFields.type],
        data: JSON.parse(f[OutboxStreamFields.data]) as Record<string, unknown>,
      };
    });
  }

  const stock = async (dropId: string) => Number(await redis.get(dropKeys(dropId).stock));
  const line = (dropId: string) => redis.zrange(dropKeys(dropId).waitlist, 0, -1);

  /** Everything a refused join could have written, to compare before and after. */
  async function snapshot(dropId: string) {
    const k = dropKeys(dropId);
    return {
      line: await redis.zrange(k.waitlist, 0, -1, 'WITHSCORES'),
      events: await redis.xlen(k.events),
      stats: await redis.hgetall(k.stats),
    };
  }

  describe('joining', () => {
    it('queues fans in join order; a repeat answers the same place', async () => {
      const { def } = await soldOut(2);
      expect(await join(def.id, 'w1')).toEqual({ position: 1, created: true });
      expect(await join(def.id, 'w2')).toEqual({ position: 2, created: true });
      expect(await join(def.id, 'w1')).toEqual({ position: 1, created: false });
      expect(await line(def.id)).toEqual(['w1', 'w2']);
      const joined = (await events(def.id)).filter((e) => e.type === 'waitlist.joined');
      expect(joined.map((e) => e.data)).toEqual([
        { dropId: def.id, fanId: 'w1', position: 1 },
        { dropId: def.id, fanId: 'w2', position: 2 },
      ]);
    });

    it('lets a paused sold-out drop take joins', async () => {
      const { def } = await soldOut(1);
      expect((await inventory.setPaused(def.id, true)).ok).toBe(true);
      expect(await join(def.id, 'w1')).toEqual({ position: 1, created: true });
    });

    it('refuses, writing nothing: NOT_SOLD_OUT, NOT_RESERVED, SALE_ENDED, DRAW_ONLY, NOT_FOUND', async () => {
      const now = await redisNow(redis);
      const onSale = await newDrop({ quantity: 5 });
      const early = await newDrop({ saleStartsAt: now + 60_000 });
      const reserved = await newDrop({ quantity: 1, reservationRequired: true });
      await inventory.reserve(reserved.id, 'holder');
      await held(reserved.id, 'holder');
      const ended = (await soldOut(1)).def;
      await setDropTimes(redis, ended.id, { saleEndsAt: now - 1 });
      const draw = await newDrop({ reservationRequired: true, allocation: 'draw' });
      const cases: [string, string][] = [
        [onSale.id, 'NOT_SOLD_OUT'],
        [early.id, 'NOT_SOLD_OUT'],
        [reserved.id, 'NOT_RESERVED'],
        [ended.id, 'SALE_ENDED'],
        [draw.id, 'DRAW_ONLY'],
      ];
      for (const [dropId, code] of cases) {
        const before = await snapshot(dropId);
        const r = await inventory.joinWaitlist(dropId, 'fan-x');
        expect(r).toMatchObject({ ok: false, code });
        expect(await snapshot(dropId)).toEqual(before);
      }
      expect(await inventory.joinWaitlist('d000000000000', 'fan-x')).toMatchObject({
        ok: false,
        code: 'NOT_FOUND',
      });
      expect(await redis.exists(dropKeys('d000000000000').waitlist)).toBe(0);
    });
  });

  describe('a released unit passes to the next fan in line', () => {
    it('a cancel: a new 1-unit hold with a full holdSeconds, the fan leaves the line', async () => {
      const { def, holds } = await soldOut(2, { holdSeconds: 120 });
      await join(def.id, 'w1');
      await join(def.id, 'w2');
      const cancelled = await inventory.cancelOrder(holds[0].id);
      expect(cancelled.ok).toBe(true);
      expect(await stock(def.id)).toBe(0);
      expect(await line(def.id)).toEqual(['w2']);
      const [first] = await redis.lrange(dropKeys(def.id).fanOrders('w1'), 0, -1);
      const order = await inventory.getOrder(first);
      expect(order).toMatchObject({ fanId: 'w1', quantity: 1, status: 'held' });
      expect(order!.expiresAt - order!.createdAt).toBe(120_000);
      expect(allocationKindOf(order!.id)).toBe('backfill');
      const evs = await events(def.id);
      const tail = evs.slice(-2);
      expect(tail.map((e) => e.type)).toEqual(['hold.cancelled', 'hold.backfilled']);
      expect(tail[1].data).toMatchObject({
        orderId: order!.id,
        fanId: 'w1',
        fromOrderId: holds[0].id,
        seq: 3,
        remaining: 0,
      });
      // The log numbers: the two grabs were 1 and 2.
      expect(evs.filter((e) => e.type === 'grab.accepted').map((e) => e.data.seq)).toEqual([1, 2]);
      expect(await inventory.counters(def.id)).toMatchObject({ held: 2, cancelled: 1 });
    });

    it('an expiry by the sweeper passes down the same way', async () => {
      const { def, holds } = await soldOut(1);
      await join(def.id, 'w1');
      await moveHoldDeadline(redis, holds[0].id, (await redisNow(redis)) - 1);
      expect(await inventory.expireDue(def.id)).toMatchObject({ expiredOrders: 1 });
      expect(await inventory.getOrder(holds[0].id)).toMatchObject({ status: 'expired' });
      const [passed] = (await inventory.standing(def.id, 'w1'))!.orders;
      expect(passed).toMatchObject({ status: 'held', fanId: 'w1' });
      expect(await stock(def.id)).toBe(0);
      // The passed-down hold is a hold like any other: the sweeper meets it at its deadline
      // (it is in the holds at its expiresAt) and, the line empty, its unit goes back to stock.
      expect(await redis.zscore(dropKeys(def.id).holds, passed.id)).toBe(String(passed.expiresAt));
      await moveHoldDeadline(redis, passed.id, (await redisNow(redis)) - 1);
      expect(await inventory.expireDue(def.id)).toMatchObject({ expiredOrders: 1 });
      expect(await inventory.getOrder(passed.id)).toMatchObject({ status: 'expired' });
      expect(await stock(def.id)).toBe(1);
    });

    it('a fan at their perUserLimit is passed over for that unit and keeps their place', async () => {
      const { def, holds } = await soldOut(2);
      // holder-1 holds a unit (limit 1) and queues anyway; w2 queues after them.
      await join(def.id, 'holder-1');
      await join(def.id, 'w2');
      expect((await inventory.cancelOrder(holds[0].id)).ok).toBe(true);
      expect(await line(def.id)).toEqual(['holder-1']);
      expect((await inventory.standing(def.id, 'w2'))!.orders).toHaveLength(1);
      // Once holder-1 is under the limit again, the next unit is theirs.
      expect((await inventory.cancelOrder(holds[1].id)).ok).toBe(true);
      expect(await line(def.id)).toEqual([]);
      const orders = (await inventory.standing(def.id, 'holder-1'))!.orders;
      expect(orders.map((o) => o.status).sort()).toEqual(['cancelled', 'held']);
    });

    it("a fan whose order list is at the grab's bound is passed over like one at the limit", async () => {
      // limit 1: the bound is 1 + ORDERS_BEYOND_LIMIT orders. `looper` reaches it the way the
      // grab allows (grab, cancel, again), then holds nothing and queues on the sold-out drop.
      const def = await newDrop({ quantity: 1 });
      const bound = 1 + ORDERS_BEYOND_LIMIT;
      for (let i = 0; i < bound; i++) {
        expect((await inventory.cancelOrder((await held(def.id, 'looper')).id)).ok).toBe(true);
      }
      const refused = await inventory.grab({ dropId: def.id, fanId: 'looper', quantity: 1 });
      expect(refused).toMatchObject({ ok: false, code: 'LIMIT_REACHED' });
      const hold = await held(def.id, 'holder');
      await join(def.id, 'looper');
      await join(def.id, 'w2');
      const list = dropKeys(def.id).fanOrders('looper');
      expect(await redis.llen(list)).toBe(bound);

      expect((await inventory.cancelOrder(hold.id)).ok).toBe(true);
      // The unit went to w2; looper got nothing, their list did not grow, their place is kept.
      expect(await redis.llen(list)).toBe(bound);
      expect(await line(def.id)).toEqual(['looper']);
      const [passed] = (await inventory.standing(def.id, 'w2'))!.orders;
      expect(passed).toMatchObject({ status: 'held', fanId: 'w2', fromOrderId: hold.id });
      const looper = await inventory.standing(def.id, 'looper');
      expect(looper!.orders.filter((o) => o.status === 'held')).toEqual([]);
      expect(await stock(def.id)).toBe(0);
      expect(await inventory.counters(def.id)).toMatchObject({ held: 1 });
    });

    it('a multi-unit release goes to as many fans, in line order', async () => {
      const def = await newDrop({ quantity: 3, perUserLimit: 3 });
      const big = await held(def.id, 'big', 3);
      for (const f of ['w1', 'w2', 'w3', 'w4']) await join(def.id, f);
      expect((await inventory.cancelOrder(big.id)).ok).toBe(true);
      expect(await line(def.id)).toEqual(['w4']);
      expect(await stock(def.id)).toBe(0);
      const backfilled = (await events(def.id)).filter((e) => e.type === 'hold.backfilled');
      expect(backfilled.map((e) => e.data.fanId)).toEqual(['w1', 'w2', 'w3']);
    });

    it('with nobody in line the units go back to stock', async () => {
      const { def, holds } = await soldOut(1);
      expect((await inventory.cancelOrder(holds[0].id)).ok).toBe(true);
      expect(await stock(def.id)).toBe(1);
      expect((await events(def.id)).some((e) => e.type === 'hold.backfilled')).toBe(false);
    });

    it('nothing passes down after saleEndsAt', async () => {
      const { def, holds } = await soldOut(1);
      await join(def.id, 'w1');
      await setDropTimes(redis, def.id, { saleEndsAt: (await redisNow(redis)) - 1 });
      expect((await inventory.cancelOrder(holds[0].id)).ok).toBe(true);
      expect(await stock(def.id)).toBe(1);
      expect(await line(def.id)).toEqual(['w1']);
    });

    it('during a pause released units wait, and the resume hands them down', async () => {
      const { def, holds } = await soldOut(3);
      await join(def.id, 'w1');
      await inventory.setPaused(def.id, true);
      await inventory.cancelOrder(holds[0].id);
      await inventory.cancelOrder(holds[1].id);
      expect(await redis.llen(dropKeys(def.id).parked)).toBe(2);
      expect(await stock(def.id)).toBe(0);
      expect((await inventory.standing(def.id, 'w1'))!.unitsPending).toBe(3);
      // Still paused: nothing moves.
      expect(await inventory.handDownParked(def.id)).toEqual({
        toFans: 0,
        toStock: 0,
        stillParked: 2,
      });
      await inventory.setPaused(def.id, false);
      expect(await inventory.handDownParked(def.id)).toEqual({
        toFans: 1,
        toStock: 1,
        stillParked: 0,
      });
      expect(await stock(def.id)).toBe(1);
      const evs = await events(def.id);
      expect(evs.find((e) => e.type === 'hold.backfilled')!.data).toMatchObject({
        fanId: 'w1',
        fromOrderId: holds[0].id,
      });
      expect(evs.find((e) => e.type === 'units.unparked')!.data).toMatchObject({
        quantity: 1,
        remaining: 1,
      });
      expect((await inventory.syncPhase(def.id))!.parked).toBe(0);
    });
  });

  it('grabs on a draw drop: DRAW_ONLY, and nothing written', async () => {
    const def = await newDrop({ reservationRequired: true, allocation: 'draw' });
    await inventory.reserve(def.id, 'fan-1');
    const before = await snapshot(def.id);
    expect(await inventory.grab({ dropId: def.id, fanId: 'fan-1', quantity: 1 })).toMatchObject({
      ok: false,
      code: 'DRAW_ONLY',
    });
    expect(await stock(def.id)).toBe(def.quantity);
    await inventory.refusals.flush();
    const after = await snapshot(def.id);
    expect(after.line).toEqual(before.line);
    expect(after.stats['rej:DRAW_ONLY']).toBe('1');
  });

  it('races: releases, joins and payments never lose or double a unit (200 fans, 40 units)', async () => {
    const def = await newDrop({ quantity: 40, perUserLimit: 2, holdSeconds: 60 });
    const fans = Array.from({ length: 200 }, () => uniqueId('fan'));
    const client = (i: number) => clients[i % clients.length];
    const grabs = await Promise.all(
      fans.map((f, i) => client(i).grab({ dropId: def.id, fanId: f, quantity: 1 })),
    );
    const holds = grabs.flatMap((g) => (g.ok ? [g.order] : []));
    expect(holds).toHaveLength(40);
    const now = await redisNow(redis);
    // Half the holds expire, a quarter are cancelled, a quarter paid; everyone else queues.
    await Promise.all(holds.slice(0, 20).map((o) => moveHoldDeadline(redis, o.id, now - 1)));
    await Promise.all([
      ...fans.map((f, i) => client(i).joinWaitlist(def.id, f)),
      ...holds.slice(20, 30).map((o, i) => client(i).cancelOrder(o.id)),
      ...holds.slice(30).map(async (o, i) => {
        await client(i).beginPayment(o.id);
        await client(i).completePayment(o.id);
      }),
      client(0).expireDue(def.id, 5),
      client(1).expireDue(def.id, 5),
      client(2).expireDue(def.id, 50),
    ]);
    await inventory.expireDue(def.id);
    const sale = (await inventory.storedSale(def.id))!;
    const live = sale.orders.filter((o) => ['held', 'paying', 'paid'].includes(o.status));
    const units = live.reduce((n, o) => n + o.quantity, 0);
    expect(units + sale.stock).toBe(40);
    const perFan = new Map<string, number>();
    for (const o of live) perFan.set(o.fanId, (perFan.get(o.fanId) ?? 0) + o.quantity);
    for (const [fan, n] of perFan) {
      expect(n).toBeLessThanOrEqual(2);
      expect(sale.unitsPerFan.get(fan)).toBe(n);
    }
    // Every backfill came from a released order, once.
    const backfills = sale.orders.filter((o) => allocationKindOf(o.id) === 'backfill');
    const sources = (await events(def.id))
      .filter((e) => e.type === 'hold.backfilled')
      .map((e) => e.data.fromOrderId as string);
    expect(sources).toHaveLength(backfills.length);
    const released = new Set(
      sale.orders.filter((o) => ['expired', 'cancelled'].includes(o.status)).map((o) => o.id),
    );
    for (const from of sources) expect(released.has(from)).toBe(true);
    const seqs = (await events(def.id))
      .filter((e) => ['grab.accepted', 'hold.backfilled'].includes(e.type))
      .map((e) => e.data.seq as number);
    expect(seqs).toEqual(Array.from({ length: seqs.length }, (_, i) => i + 1));
  });
});
