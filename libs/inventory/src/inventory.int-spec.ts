import { EventCatalog, OutboxStreamFields } from '@flashdrop/events';
import { createRedis } from '@flashdrop/persistence';
import {
  DedicatedRedis,
  dropDefinition,
  moveHoldDeadline,
  redisNow,
  setDropTimes,
  soakRounds,
  slotPort,
  uniqueId,
} from '@flashdrop/testing';
import Redis from 'ioredis';
import { dropKeys } from './keys';
import { DropDefinition, GrabOutcome, Inventory, InventoryOrder, REFUSAL_FLUSH_MS } from './index';

/**
 * The scripts against a real Redis of this test's own: their races, refusals and events. No
 * worker runs on it (no sweeper, scheduler, relay or trimmer), so these tests alone decide when
 * holds expire, and read every event before anything could trim it.
 */
describe('Inventory (Lua scripts on the real Redis)', () => {
  const server = new DedicatedRedis(slotPort(6393));
  let redis: Redis;
  let inventory: Inventory;
  // Several connections, so concurrent scripts arrive interleaved from different clients.
  let clients: Inventory[];

  beforeAll(async () => {
    server.start();
    redis = createRedis(server.url);
    await redis.flushdb();
    inventory = new Inventory(redis);
    clients = Array.from({ length: 6 }, () => new Inventory(createRedis(server.url)));
  }, 30_000);
  afterAll(async () => {
    await Promise.all(clients.map((c) => c.redis.quit()));
    await redis.quit();
    server.stop();
  });

  async function newDrop(overrides: Partial<DropDefinition> = {}): Promise<DropDefinition> {
    const def = dropDefinition(await redisNow(redis), overrides);
    await inventory.createDrop(def);
    return def;
  }

  async function reserveAll(dropId: string, fans: string[]) {
    await Promise.all(fans.map((f) => inventory.reserve(dropId, f)));
  }

  const grab = (dropId: string, fanId: string, extra: { quantity?: number; key?: string } = {}) =>
    inventory.grab({
      dropId,
      fanId,
      quantity: extra.quantity ?? 1,
      idempotencyKey: extra.key,
    });

  async function held(dropId: string, fanId = 'fan-1'): Promise<InventoryOrder> {
    const r = await grab(dropId, fanId);
    if (!r.ok) throw new Error(`grab refused: ${r.code}`);
    return r.order;
  }

  async function events(dropId: string) {
    const entries = await redis.xrange(dropKeys(dropId).events, '-', '+');
    return entries.map(([, flat]) => {
      const f: Record<string, string> = {};
      for (let i = 0; i < flat.length; i += 2) f[flat[i]] = flat[i + 1];
      return {
        type: f[OutboxStreamFields.type],
        version: Number(f[OutboxStreamFields.version]),
        at: Number(f[OutboxStreamFields.occurredAtMs]),
        data: JSON.parse(f[OutboxStreamFields.data]) as Record<string, unknown>,
      };
    });
  }

  const stock = async (dropId: string) => Number(await redis.get(dropKeys(dropId).stock));

  describe('the rush: 2,000 concurrent grabs from 1,000 reserved fans on 100 units', () => {
    const fans = Array.from({ length: 1000 }, (_, i) => `rush-fan-${i}`);

    it.each(Array.from({ length: 19 }, (_, i) => [i + 1]))(
      'holds exactly 100 units, refuses the rest, no fan above its limit (rep %i)',
      async () => {
        const def = await newDrop({ quantity: 100 });
        await reserveAll(def.id, fans);
        const attempts = [...fans, ...fans].map((fan, i) =>
          clients[i % clients.length].grab({
            dropId: def.id,
            fanId: fan,
            quantity: 1,
          }),
        );
        const results: GrabOutcome[] = await Promise.all(attempts);
        const accepted = results.filter((r) => r.ok);
        expect(accepted).toHaveLength(100);
        for (const r of results) {
          if (!r.ok) expect(['SOLD_OUT', 'LIMIT_REACHED']).toContain(r.code);
        }
        expect(await stock(def.id)).toBe(0);
        const perFan = await redis.hgetall(dropKeys(def.id).fans);
        expect(Object.values(perFan).every((u) => Number(u) <= 1)).toBe(true);
        expect(Object.values(perFan).reduce((s, u) => s + Number(u), 0)).toBe(100);
        // Refusals are counted in each process and written in aggregate (RefusalTally).
        await Promise.all(clients.map((c) => c.refusals.flush()));
        const counters = await inventory.counters(def.id);
        expect(counters.held).toBe(100);
        expect(counters.grabAttempts).toBe(2000);
        const { SOLD_OUT = 0, LIMIT_REACHED = 0, ...others } = counters.rejections;
        expect(SOLD_OUT + LIMIT_REACHED).toBe(1900);
        expect(others).toEqual({});
        expect(await redis.zcard(dropKeys(def.id).holds)).toBe(100);
      },
    );
  });

  it('lets one fan with perUserLimit 2 hold at most 2 units however many grabs race', async () => {
    const def = await newDrop({ quantity: 50, perUserLimit: 2 });
    await inventory.reserve(def.id, 'greedy');
    const results = await Promise.all(
      Array.from({ length: 300 }, (_, i) =>
        clients[i % clients.length].grab({
          dropId: def.id,
          fanId: 'greedy',
          quantity: 1 + (i % 2),
        }),
      ),
    );
    const units = results.reduce((s, r) => s + (r.ok ? r.order.quantity : 0), 0);
    expect(units).toBeLessThanOrEqual(2);
    expect(units).toBeGreaterThanOrEqual(1);
    expect(Number(await redis.hget(dropKeys(def.id).fans, 'greedy'))).toBe(units);
    expect(await stock(def.id)).toBe(50 - units);
  });

  it('refuses a quantity above perUserLimit as VALIDATION_FAILED and writes nothing', async () => {
    const def = await newDrop({ perUserLimit: 2 });
    await inventory.reserve(def.id, 'fan-1');
    const before = await events(def.id);
    const r = await grab(def.id, 'fan-1', { quantity: 3 });
    expect(r).toMatchObject({ ok: false, code: 'VALIDATION_FAILED' });
    expect(await stock(def.id)).toBe(100);
    expect(await events(def.id)).toHaveLength(before.length);
  });

  describe('refusals: read-only scripts, counted in memory and announced in aggregate', () => {
    it.each([
      ['SALE_NOT_STARTED', { saleStartsAt: Date.now() + 3_600_000 }],
      ['SALE_ENDED', { saleStartsAt: Date.now() - 10_000, saleEndsAt: Date.now() - 5_000 }],
      ['SALE_PAUSED', { paused: true }],
      ['SALE_ENDED', { cancelled: true }],
    ] as const)('%s', async (code, overrides) => {
      const def = await newDrop(overrides);
      await inventory.reserve(def.id, 'fan-1');
      const before = await events(def.id);
      const statsBefore = await redis.hgetall(dropKeys(def.id).stats);
      const answers = await Promise.all([grab(def.id, 'fan-1'), grab(def.id, 'fan-2')]);
      expect(answers).toEqual([
        { ok: false, code },
        { ok: false, code },
      ]);
      // The refusal itself wrote nothing: no hold, no stock change, no counter, no event.
      expect(await stock(def.id)).toBe(100);
      expect(await redis.zcard(dropKeys(def.id).holds)).toBe(0);
      expect(await redis.hgetall(dropKeys(def.id).stats)).toEqual(statsBefore);
      expect(await events(def.id)).toHaveLength(before.length);
      // The tally's flush: one counter change and one grab.rejected carrying both.
      await inventory.refusals.flush();
      expect((await inventory.counters(def.id)).rejections).toEqual({ [code]: 2 });
      const rejected = (await events(def.id)).filter((e) => e.type === 'grab.rejected');
      expect(rejected.map((e) => e.data)).toEqual([{ dropId: def.id, code, count: 2 }]);
    });

    it('reports refusals on its own within the flush interval, once', async () => {
      const def = await newDrop({ paused: true });
      await Promise.all(Array.from({ length: 30 }, (_, i) => grab(def.id, `f${i % 3}`)));
      await new Promise((r) => setTimeout(r, REFUSAL_FLUSH_MS * 3));
      expect((await inventory.counters(def.id)).rejections).toEqual({ SALE_PAUSED: 30 });
      expect((await inventory.counters(def.id)).grabAttempts).toBe(30);
      await inventory.refusals.flush();
      expect((await inventory.counters(def.id)).rejections).toEqual({ SALE_PAUSED: 30 });
    });

    it('NOT_RESERVED for a fan without a reservation when one is required', async () => {
      const def = await newDrop();
      expect(await grab(def.id, 'stranger')).toEqual({ ok: false, code: 'NOT_RESERVED' });
      expect(await stock(def.id)).toBe(100);
    });

    it('lets anyone grab a drop that needs no reservation', async () => {
      const def = await newDrop({ reservationRequired: false });
      expect((await grab(def.id, 'walk-in')).ok).toBe(true);
    });

    it('NOT_FOUND for an unknown drop', async () => {
      expect(await grab('d000000000000', 'fan-1')).toEqual({ ok: false, code: 'NOT_FOUND' });
    });

    it('SOLD_OUT when fewer units are left than asked', async () => {
      const def = await newDrop({ quantity: 1, perUserLimit: 2, reservationRequired: false });
      expect(await grab(def.id, 'a', { quantity: 2 })).toEqual({ ok: false, code: 'SOLD_OUT' });
      expect(await stock(def.id)).toBe(1);
    });
  });

  describe('Idempotency-Key', () => {
    it('returns the first answer and makes no second hold', async () => {
      const def = await newDrop();
      await inventory.reserve(def.id, 'fan-1');
      const first = await grab(def.id, 'fan-1', { key: 'k-1' });
      const again = await Promise.all([1, 2, 3].map(() => grab(def.id, 'fan-1', { key: 'k-1' })));
      expect(first.ok).toBe(true);
      for (const r of again) {
        expect(r).toEqual({ ok: true, replayed: true, order: first.ok && first.order });
      }
      expect(await stock(def.id)).toBe(99);
      expect((await events(def.id)).filter((e) => e.type === 'grab.accepted')).toHaveLength(1);
    });

    it('replays a refused first answer, and keys are per fan', async () => {
      const def = await newDrop();
      const first = await grab(def.id, 'fan-x', { key: 'same' });
      expect(first).toEqual({ ok: false, code: 'NOT_RESERVED' });
      await inventory.reserve(def.id, 'fan-x');
      expect(await grab(def.id, 'fan-x', { key: 'same' })).toEqual(first);
      await inventory.reserve(def.id, 'fan-y');
      expect((await grab(def.id, 'fan-y', { key: 'same' })).ok).toBe(true);
    });
  });

  describe('the events of a grab match the catalog', () => {
    it('grab.accepted carries the order and what remains', async () => {
      const def = await newDrop({ quantity: 5, perUserLimit: 3, priceMinor: 10 ** 12 });
      await inventory.reserve(def.id, 'fan-1', 'fan-ref');
      const order = (await grab(def.id, 'fan-1', { quantity: 3 })) as {
        ok: true;
        order: InventoryOrder;
      };
      const all = await events(def.id);
      expect(all.map((e) => e.type)).toEqual([
        'drop.created',
        'reservation.created',
        'grab.accepted',
      ]);
      const accepted: EventCatalog['grab.accepted'] = {
        dropId: def.id,
        orderId: order.order.id,
        fanId: 'fan-1',
        quantity: 3,
        amountMinor: 3 * 10 ** 12,
        expiresAt: order.order.expiresAt,
        remaining: 2,
      };
      expect(all[2].data).toEqual(accepted);
      expect(all[1].data).toEqual({ dropId: def.id, fanId: 'fan-1', referrerId: 'fan-ref' });
      expect(all.every((e) => e.version === 1 && e.at > 0)).toBe(true);
      expect(order.order.amountMinor).toBe(3 * 10 ** 12);
      expect(order.order.expiresAt - order.order.createdAt).toBe(600_000);
    });
  });

  describe('reservations', () => {
    const pending = async (dropId: string) =>
      (await inventory.counters(dropId)).reservationsPending;
    const reservationEvents = async (dropId: string) =>
      (await events(dropId)).filter((e) => e.type.startsWith('reservation.'));

    it('are idempotent per fan: the same reservedAt again, counted once', async () => {
      const def = await newDrop();
      const first = await inventory.reserve(def.id, 'fan-r');
      const again = await inventory.reserve(def.id, 'fan-r');
      expect(first).toMatchObject({ ok: true, value: { created: true } });
      expect(again).toMatchObject({ ok: true, value: { created: false } });
      expect(first.ok && again.ok && again.value.reservedAt).toBe(
        first.ok && first.value.reservedAt,
      );
      expect(await pending(def.id)).toBe(1);
      const referred = await newDrop();
      await inventory.reserve(referred.id, 'fan-r', 'fan-ref');
      await inventory.reserve(referred.id, 'fan-r', 'fan-ref');
      expect((await reservationEvents(referred.id)).map((e) => e.type)).toEqual([
        'reservation.created',
      ]);
      expect((await inventory.counters(referred.id)).referrals).toBe(1);
    });

    it('without a referrer write no event: they are counted, and announced in aggregate', async () => {
      const def = await newDrop();
      await reserveAll(def.id, ['a', 'b', 'c']);
      await inventory.reserve(def.id, 'd', 'a');
      // The referred one alone is announced on its own; the three others only counted.
      expect((await reservationEvents(def.id)).map((e) => [e.type, e.data])).toEqual([
        ['reservation.created', { dropId: def.id, fanId: 'd', referrerId: 'a' }],
      ]);
      expect(await pending(def.id)).toBe(3);

      expect(await inventory.countReservations(def.id)).toEqual({ counted: 3, open: true });
      const announced = (await reservationEvents(def.id)).slice(1);
      expect(announced.map((e) => [e.type, e.version, e.data])).toEqual([
        ['reservation.counted', 1, { dropId: def.id, count: 3 }],
      ]);
      expect(await pending(def.id)).toBe(0);
      // Nothing pending: nothing written.
      expect(await inventory.countReservations(def.id)).toEqual({ counted: 0, open: true });
      expect(await reservationEvents(def.id)).toHaveLength(2);
      // A fan reserving again is not counted again; a new one is.
      await reserveAll(def.id, ['a', 'e']);
      expect(await inventory.countReservations(def.id)).toEqual({ counted: 1, open: true });
    });

    it(`are each announced exactly once while counts run concurrently (600 fans, 40 counts, ${soakRounds()} round(s))`, async () => {
      for (let round = 0; round < soakRounds(); round++) await announcedOnce(round);
    });

    async function announcedOnce(round: number): Promise<void> {
      const def = await newDrop();
      const fans = Array.from({ length: 600 }, (_, i) => `race-${round}-${i}`);
      // Reservations from six clients, a third of them referred, with counts racing them.
      const reserves = fans.map((f, i) =>
        clients[i % clients.length].reserve(def.id, f, i % 3 === 0 ? 'race-ref' : undefined),
      );
      const counts = Array.from({ length: 40 }, (_, i) =>
        clients[i % clients.length].countReservations(def.id),
      );
      const [reserved, counted] = await Promise.all([Promise.all(reserves), Promise.all(counts)]);
      expect(reserved.every((r) => r.ok && r.value.created)).toBe(true);
      const last = await inventory.countReservations(def.id);
      const all = await reservationEvents(def.id);
      const announcedCounts = all
        .filter((e) => e.type === 'reservation.counted')
        .reduce((sum, e) => sum + Number(e.data.count), 0);
      const created = all.filter((e) => e.type === 'reservation.created').length;
      expect(created).toBe(200);
      expect(announcedCounts).toBe(400);
      expect(counted.reduce((sum, c) => sum + c.counted, 0) + last.counted).toBe(400);
      expect(await redis.hlen(dropKeys(def.id).reservations)).toBe(created + announcedCounts);
      expect(await pending(def.id)).toBe(0);
      // Every count event carries at least one reservation: an empty count writes nothing.
      expect(all.every((e) => e.type === 'reservation.created' || Number(e.data.count) > 0)).toBe(
        true,
      );
    }

    it('say when a drop takes no more reservations, so counting it can stop', async () => {
      const now = await redisNow(redis);
      const closed = await newDrop({ reservationOpensAt: now - 60_000, reservationClosesAt: now });
      expect(await inventory.countReservations(closed.id)).toEqual({ counted: 0, open: false });
      const open = await newDrop({
        reservationOpensAt: now - 1,
        reservationClosesAt: now + 60_000,
      });
      await inventory.reserve(open.id, 'late-fan');
      // Closing the window afterwards: the last count still announces what is pending.
      await setDropTimes(redis, open.id, { reservationClosesAt: now });
      expect(await inventory.countReservations(open.id)).toEqual({ counted: 1, open: false });
      expect(await inventory.countReservations('d00000000000')).toEqual({
        counted: 0,
        open: false,
      });
    });

    it('answer RESERVATION_NOT_OPEN / RESERVATION_CLOSED outside the window', async () => {
      const now = await redisNow(redis);
      const early = await newDrop({
        reservationOpensAt: now + 60_000,
        reservationClosesAt: now + 120_000,
        saleStartsAt: now + 120_000,
      });
      expect(await inventory.reserve(early.id, 'f')).toEqual({
        ok: false,
        code: 'RESERVATION_NOT_OPEN',
      });
      const late = await newDrop({ reservationOpensAt: now - 60_000, reservationClosesAt: now });
      expect(await inventory.reserve(late.id, 'f')).toEqual({
        ok: false,
        code: 'RESERVATION_CLOSED',
      });
      expect(await redis.hlen(dropKeys(late.id).reservations)).toBe(0);
    });

    it('cost at most 100 bytes of Redis each (20,000 fans)', async () => {
      const def = await newDrop();
      const fans = Array.from({ length: 20_000 }, () => uniqueId('fan'));
      await reserveAll(def.id, fans);
      const bytes = Number(
        await redis.call('MEMORY', 'USAGE', dropKeys(def.id).reservations, 'SAMPLES', '0'),
      );
      const perReservation = bytes / fans.length;
      console.log(`reservation cost: ${perReservation.toFixed(1)} bytes (fan ids of 16 chars)`);
      expect(perReservation).toBeLessThanOrEqual(100);
      // The stream's entries are the outbox (the relay trims them), not the reservation.
      // A measure of memory, not of time: jest's 5 s default was a deadline on a busy machine.
    }, 120_000);
  });

  describe('releasing units: exactly once', () => {
    it('cancel returns the units at once; a second cancel changes nothing', async () => {
      const def = await newDrop();
      await inventory.reserve(def.id, 'fan-1');
      const order = await held(def.id);
      const cancelled = await inventory.cancelOrder(order.id, 'fan-1');
      expect(cancelled).toMatchObject({ ok: true, value: { status: 'cancelled' } });
      expect(await stock(def.id)).toBe(100);
      expect(await inventory.cancelOrder(order.id, 'fan-1')).toMatchObject({ ok: true });
      expect(await stock(def.id)).toBe(100);
      expect(await redis.hget(dropKeys(def.id).fans, 'fan-1')).toBe('0');
      const released = (await events(def.id)).filter((e) => e.type === 'hold.cancelled');
      expect(released.map((e) => e.data)).toEqual([
        { dropId: def.id, orderId: order.id, fanId: 'fan-1', quantity: 1, remaining: 100 },
      ]);
    });

    it("hides another fan's order (NOT_FOUND) and changes nothing", async () => {
      const def = await newDrop();
      await inventory.reserve(def.id, 'fan-1');
      const order = await held(def.id);
      expect(await inventory.cancelOrder(order.id, 'fan-2')).toEqual({
        ok: false,
        code: 'NOT_FOUND',
      });
      expect((await inventory.getOrder(order.id))?.status).toBe('held');
      expect(await inventory.cancelOrder('nonsense', 'fan-1')).toEqual({
        ok: false,
        code: 'NOT_FOUND',
      });
    });

    it('expiry returns the units of a hold past its deadline, and only then', async () => {
      const def = await newDrop();
      await inventory.reserve(def.id, 'fan-1');
      const order = await held(def.id);
      expect((await inventory.expireDue(def.id)).expiredOrders).toBe(0);
      await moveHoldDeadline(redis, order.id, (await redisNow(redis)) - 1);
      expect(await inventory.expireDue(def.id)).toMatchObject({
        expiredOrders: 1,
        unitsReturned: 1,
      });
      expect((await inventory.getOrder(order.id))?.status).toBe('expired');
      expect(await stock(def.id)).toBe(100);
      expect((await inventory.expireDue(def.id)).expiredOrders).toBe(0);
      expect(await inventory.cancelOrder(order.id, 'fan-1')).toMatchObject({
        ok: false,
        code: 'HOLD_EXPIRED',
      });
      expect(await stock(def.id)).toBe(100);
    });

    it('a cancel after the deadline (sweeper not yet run) expires the hold instead', async () => {
      const def = await newDrop();
      await inventory.reserve(def.id, 'fan-1');
      const order = await held(def.id);
      await moveHoldDeadline(redis, order.id, (await redisNow(redis)) - 1);
      expect(await inventory.cancelOrder(order.id, 'fan-1')).toMatchObject({
        ok: false,
        code: 'HOLD_EXPIRED',
        order: { status: 'expired' },
      });
      expect(await stock(def.id)).toBe(100);
    });

    it.each(Array.from({ length: 10 }, (_, i) => [i + 1]))(
      'two sweepers and a cancel racing over the same holds return each unit once (rep %i)',
      async () => {
        const def = await newDrop({ quantity: 40, reservationRequired: false });
        const orders = await Promise.all(
          Array.from({ length: 40 }, (_, i) => held(def.id, `racer-${i}`)),
        );
        const now = await redisNow(redis);
        await Promise.all(orders.map((o) => moveHoldDeadline(redis, o.id, now)));
        await Promise.all([
          ...orders.map((o, i) => clients[i % 3].cancelOrder(o.id)),
          clients[3].expireDue(def.id, 7),
          clients[4].expireDue(def.id, 7),
          clients[5].expireDue(def.id),
          clients[3].expireDue(def.id),
        ]);
        expect(await stock(def.id)).toBe(40);
        const c = await inventory.counters(def.id);
        expect(c.held).toBe(0);
        expect(c.expired + c.cancelled).toBe(40);
        const releases = (await events(def.id)).filter(
          (e) => e.type === 'hold.expired' || e.type === 'hold.cancelled',
        );
        expect(releases).toHaveLength(40);
      },
    );

    it('after a full hold cycle a second wave sells exactly the returned units', async () => {
      const def = await newDrop({ quantity: 100, reservationRequired: false });
      const firstWave = await Promise.all(
        Array.from({ length: 300 }, (_, i) => grab(def.id, `wave1-${i}`)),
      );
      const firstOrders = firstWave.filter((r) => r.ok).map((r) => (r.ok ? r.order : undefined));
      expect(firstOrders).toHaveLength(100);
      // 30 of them are paid: those units must never come back.
      for (const o of firstOrders.slice(0, 30)) {
        expect((await inventory.beginPayment(o!.id)).ok).toBe(true);
        expect((await inventory.completePayment(o!.id)).ok).toBe(true);
      }
      const now = await redisNow(redis);
      await Promise.all(firstOrders.map((o) => moveHoldDeadline(redis, o!.id, now - 1)));
      await Promise.all([inventory.expireDue(def.id), clients[0].expireDue(def.id)]);
      expect(await stock(def.id)).toBe(70);
      const secondWave = await Promise.all(
        Array.from({ length: 500 }, (_, i) =>
          clients[i % 6].grab({
            dropId: def.id,
            fanId: `wave2-${i}`,
            quantity: 1,
          }),
        ),
      );
      expect(secondWave.filter((r) => r.ok)).toHaveLength(70);
      const c = await inventory.counters(def.id);
      expect(c.held + c.paid).toBe(100);
      expect(c.paid).toBe(30);
    });
  });

  describe('the payment transitions (the wallet fences, completes or aborts a hold)', () => {
    async function heldOrder(overrides: Partial<DropDefinition> = {}) {
      const def = await newDrop({ reservationRequired: false, ...overrides });
      return { def, order: await held(def.id, uniqueId('payer')) };
    }

    it('held -> paying -> paid, once, with order.paid; paid is idempotent', async () => {
      const { def, order } = await heldOrder();
      const begun = await inventory.beginPayment(order.id, { fanId: order.fanId });
      expect(begun).toMatchObject({ ok: true, value: { status: 'paying' } });
      expect(await inventory.beginPayment(order.id)).toMatchObject({
        ok: false,
        code: 'PAYMENT_IN_PROGRESS',
      });
      const paid = await inventory.completePayment(order.id);
      expect(paid).toMatchObject({ ok: true, value: { status: 'paid' } });
      expect(await inventory.completePayment(order.id)).toEqual(paid);
      const paidEvents = (await events(def.id)).filter((e) => e.type === 'order.paid');
      expect(paidEvents.map((e) => e.data)).toEqual([
        {
          dropId: def.id,
          orderId: order.id,
          fanId: order.fanId,
          quantity: 1,
          amountMinor: def.priceMinor,
        },
      ]);
      const c = await inventory.counters(def.id);
      expect(c).toMatchObject({ held: 0, paid: 1, revenueMinor: def.priceMinor });
    });

    it('a paying or paid order is never expired or cancelled, even at its deadline', async () => {
      const { def, order } = await heldOrder();
      await inventory.beginPayment(order.id);
      await moveHoldDeadline(redis, order.id, (await redisNow(redis)) - 1);
      expect((await inventory.expireDue(def.id)).expiredOrders).toBe(0);
      expect(await inventory.cancelOrder(order.id)).toMatchObject({
        ok: false,
        code: 'PAYMENT_IN_PROGRESS',
      });
      expect((await inventory.completePayment(order.id)).ok).toBe(true);
      await Promise.all([inventory.expireDue(def.id), clients[1].expireDue(def.id)]);
      expect(await inventory.cancelOrder(order.id)).toMatchObject({
        ok: false,
        code: 'ORDER_PAID',
      });
      expect(await inventory.abortPayment(order.id, 0)).toMatchObject({
        ok: false,
        code: 'ORDER_PAID',
      });
      expect((await inventory.getOrder(order.id))?.status).toBe('paid');
      expect(await stock(def.id)).toBe(99);
    });

    it('abort before the deadline puts the hold back; after it, expires it once', async () => {
      const { def, order } = await heldOrder();
      const first = await inventory.beginPayment(order.id);
      expect(await inventory.abortPayment(order.id, attemptOf(first))).toMatchObject({
        ok: true,
        value: { status: 'held' },
      });
      expect(await redis.zscore(dropKeys(def.id).holds, order.id)).toBe(String(order.expiresAt));
      const second = attemptOf(await inventory.beginPayment(order.id));
      await moveHoldDeadline(redis, order.id, (await redisNow(redis)) - 1);
      await Promise.all([
        inventory.abortPayment(order.id, second),
        clients[0].abortPayment(order.id, second),
      ]);
      expect((await inventory.getOrder(order.id))?.status).toBe('expired');
      expect(await stock(def.id)).toBe(100);
      expect((await inventory.counters(def.id)).expired).toBe(1);
    });

    it('gives every payment attempt of an order its own id, even many in one millisecond', async () => {
      const { order } = await heldOrder();
      const ids = new Set<number | undefined>();
      for (let i = 0; i < 50; i++) {
        const begun = await inventory.beginPayment(order.id);
        if (!begun.ok) throw new Error(begun.code);
        ids.add(begun.value.payingUntil);
        expect((await inventory.abortPayment(order.id, attemptOf(begun))).ok).toBe(true);
      }
      expect(ids.size).toBe(50);
    });

    it('an abort naming an old attempt leaves the attempt that replaced it alone', async () => {
      const { def, order } = await heldOrder();
      const first = await inventory.beginPayment(order.id);
      if (!first.ok) throw new Error(first.code);
      expect((await inventory.abortPayment(order.id, attemptOf(first))).ok).toBe(true);
      const second = await inventory.beginPayment(order.id);
      if (!second.ok) throw new Error(second.code);
      expect(second.value.payingUntil).not.toBe(first.value.payingUntil);
      // A late caller of the first attempt, even past the deadline: no change.
      await moveHoldDeadline(redis, order.id, (await redisNow(redis)) - 1);
      expect(await inventory.abortPayment(order.id, attemptOf(first))).toMatchObject({
        ok: true,
        value: { status: 'paying', payingUntil: second.value.payingUntil },
      });
      expect(await stock(def.id)).toBe(99);
      expect(await inventory.abortPayment(order.id, attemptOf(second))).toMatchObject({
        ok: true,
        value: { status: 'expired' },
      });
      expect(await stock(def.id)).toBe(100);
    });

    it('refuses to begin on an expired, cancelled or foreign order', async () => {
      const { def, order } = await heldOrder();
      expect(await inventory.beginPayment(order.id, { fanId: 'someone-else' })).toEqual({
        ok: false,
        code: 'NOT_FOUND',
      });
      await moveHoldDeadline(redis, order.id, (await redisNow(redis)) - 1);
      expect(await inventory.beginPayment(order.id)).toMatchObject({
        ok: false,
        code: 'HOLD_EXPIRED',
        order: { status: 'expired' },
      });
      expect(await stock(def.id)).toBe(100);
      const other = await held(def.id, 'canceller');
      await inventory.cancelOrder(other.id);
      expect(await inventory.beginPayment(other.id)).toMatchObject({
        ok: false,
        code: 'ORDER_CANCELLED',
      });
      expect(await inventory.completePayment(other.id)).toMatchObject({
        ok: false,
        code: 'ORDER_CANCELLED',
      });
    });

    it('reports a paying order past payingUntil as stale, without expiring it', async () => {
      const { def, order } = await heldOrder();
      await inventory.beginPayment(order.id, { payingTtlMs: 1 });
      await moveHoldDeadline(redis, order.id, (await redisNow(redis)) - 1);
      await new Promise((r) => setTimeout(r, 5));
      const sweep = await inventory.expireDue(def.id);
      expect(sweep.stalePaying).toEqual([order.id]);
      expect((await inventory.getOrder(order.id))?.status).toBe('paying');
      expect((await inventory.expireDue(def.id)).stalePaying).toEqual([]);
    });
  });

  describe('drops: phases from the Redis clock, pause, cancel, edits', () => {
    it('computes each phase', async () => {
      const now = await redisNow(redis);
      const cases: [Partial<DropDefinition>, string][] = [
        [
          {
            reservationOpensAt: now + 1e5,
            reservationClosesAt: now + 2e5,
            saleStartsAt: now + 2e5,
          },
          'scheduled',
        ],
        [
          {
            reservationOpensAt: now - 1e5,
            reservationClosesAt: now + 2e5,
            saleStartsAt: now + 2e5,
          },
          'reservation_open',
        ],
        [
          {
            reservationOpensAt: now - 2e5,
            reservationClosesAt: now - 1e5,
            saleStartsAt: now + 2e5,
          },
          'reservation_closed',
        ],
        [{}, 'on_sale'],
        [{ paused: true }, 'paused'],
        [{ saleEndsAt: now - 1 }, 'ended'],
        [{ cancelled: true }, 'cancelled'],
        [
          {
            reservationRequired: false,
            reservationOpensAt: undefined,
            reservationClosesAt: undefined,
            saleStartsAt: now + 1e5,
          },
          'scheduled',
        ],
      ];
      for (const [overrides, phase] of cases) {
        const def = await newDrop(overrides);
        expect((await inventory.viewDrop(def.id))?.phase).toBe(phase);
      }
      const soldOut = await newDrop({ quantity: 1, reservationRequired: false });
      await held(soldOut.id);
      expect(await inventory.viewDrop(soldOut.id)).toMatchObject({
        phase: 'sold_out',
        remaining: 0,
      });
    });

    it('announces each phase change once (syncPhase)', async () => {
      const now = await redisNow(redis);
      const def = await newDrop({ saleStartsAt: now + 3_600_000 });
      const [a, b] = await Promise.all([inventory.syncPhase(def.id), clients[0].syncPhase(def.id)]);
      expect([a?.changed, b?.changed].sort()).toEqual([false, true]);
      await setDropTimes(redis, def.id, { saleStartsAt: now - 1 });
      expect(await inventory.syncPhase(def.id)).toEqual({ phase: 'on_sale', changed: true });
      const changes = (await events(def.id)).filter((e) => e.type === 'drop.phase_changed');
      expect(changes.map((e) => e.data.phase)).toEqual(['reservation_open', 'on_sale']);
    });

    it('pause stops grabs, resume restarts them; each announced once', async () => {
      const def = await newDrop({ reservationRequired: false });
      await inventory.setPaused(def.id, true);
      await inventory.setPaused(def.id, true);
      expect(await grab(def.id, 'p')).toEqual({ ok: false, code: 'SALE_PAUSED' });
      await inventory.setPaused(def.id, false);
      expect((await grab(def.id, 'p')).ok).toBe(true);
      const types = (await events(def.id)).map((e) => e.type);
      expect(types.filter((t) => t === 'drop.paused' || t === 'drop.resumed')).toEqual([
        'drop.paused',
        'drop.resumed',
      ]);
    });

    it('cancels only before the sale, edits only before the lock', async () => {
      const now = await redisNow(redis);
      const future = await newDrop({
        reservationOpensAt: now + 60_000,
        reservationClosesAt: now + 120_000,
        saleStartsAt: now + 120_000,
      });
      expect(await inventory.updateDrop({ ...future, quantity: 150 })).toEqual({
        ok: true,
        value: undefined,
      });
      expect(await stock(future.id)).toBe(150);
      expect(await inventory.cancelDrop(future.id)).toEqual({ ok: true, value: undefined });
      expect(await inventory.updateDrop(future)).toEqual({ ok: false, code: 'DROP_LOCKED' });
      const live = await newDrop();
      expect(await inventory.cancelDrop(live.id)).toEqual({ ok: false, code: 'DROP_LOCKED' });
      expect(await inventory.updateDrop(live)).toEqual({ ok: false, code: 'DROP_LOCKED' });
      expect(await inventory.updateDrop({ ...live, id: 'd000000000000' })).toEqual({
        ok: false,
        code: 'NOT_FOUND',
      });
    });
  });
});

/** The attempt a begun payment names (its payingUntil), for abortPayment. */
function attemptOf(begun: Awaited<ReturnType<Inventory['beginPayment']>>): number {
  const attempt = begun.ok ? begun.value.payingUntil : undefined;
  if (attempt === undefined) throw new Error(`payment not begun: ${JSON.stringify(begun)}`);
  return attempt;
}
