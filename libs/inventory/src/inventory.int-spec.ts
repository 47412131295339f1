import { EventCatalog, OutboxStreamFields } from '@flashdrop/events';
import { RedisClient } from '@flashdrop/persistence';
import {
  SaleRedisFixture,
  dropDefinition,
  dropSnapshot,
  eventually,
  moveHoldDeadline,
  putInHolds,
  refusalTallyWrites,
  redisNow,
  roundNumbers,
  setDropTimes,
  soakRounds,
  slotPort,
  namingReceipts,
  grabIdempotencyEntry,
  snapshotDiff,
  uniqueId,
} from '@flashdrop/testing';
import { DROPS_ACTIVE_KEY, dropKeys } from './keys';
import { DropDefinition, GrabOutcome, Inventory, InventoryOrder } from './index';

/**
 * The scripts against a real Redis of this test's own: their races, refusals and events. No
 * worker runs on it (no sweeper, scheduler, relay or trimmer), so these tests alone decide when
 * holds expire, and read every event before anything could trim it. Under npm run test:cluster
 * it is a Redis Cluster of six of its own instead: each drop on its own slot, the same answers.
 */
describe('Inventory (Lua scripts on the real Redis)', () => {
  // The races here are thousands of script calls: jest's 5 s default is a clock assertion on a
  // shared box (20,000 reservations took longer under load). A hang still fails.
  jest.setTimeout(60_000);
  const sale = new SaleRedisFixture({
    port: slotPort(6393),
    clusterFirstPort: slotPort(7500),
    clientCount: 6,
  });
  let redis: RedisClient;
  let inventory: Inventory;
  // Several connections, so concurrent scripts arrive interleaved from different clients.
  let clients: Inventory[];

  beforeAll(async () => ({ redis, inventory, clients } = await sale.open()), 60_000);
  afterAll(() => sale.close());

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

    it.each(roundNumbers(3))(
      'holds exactly 100 units, refuses the rest, no fan above its limit (round %i)',
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

  describe('eligibility in a race: unreserved fans racing reserved ones', () => {
    it.each(roundNumbers(3))(
      '500 unreserved fans among 500 reserved ones on 300 units get not one (round %i)',
      async () => {
        const def = await newDrop({ quantity: 300 });
        const reserved = Array.from({ length: 500 }, () => uniqueId('reserved'));
        const strangers = Array.from({ length: 500 }, () => uniqueId('stranger'));
        await reserveAll(def.id, reserved);
        // Interleaved over six connections: every stretch of the rush mixes the two.
        const fans = reserved.flatMap((f, i) => [f, strangers[i]]);
        const results = await Promise.all(
          fans.map((fanId, i) =>
            clients[i % clients.length].grab({ dropId: def.id, fanId, quantity: 1 }),
          ),
        );
        const isStranger = new Set(strangers);
        const winners = results.flatMap((r) => (r.ok ? [r.order.fanId] : []));
        expect(winners.filter((fanId) => isStranger.has(fanId))).toEqual([]);
        expect(winners).toHaveLength(300);
        const strangerCodes = results.filter((_, i) => i % 2 === 1).map((r) => !r.ok && r.code);
        expect(strangerCodes).toEqual(strangers.map(() => 'NOT_RESERVED'));
        // What is stored agrees: no unit held by, and no per-fan count for, an unreserved fan.
        const perFan = await redis.hgetall(dropKeys(def.id).fans);
        expect(Object.keys(perFan).filter((fanId) => isStranger.has(fanId))).toEqual([]);
        expect(await stock(def.id)).toBe(0);
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

    // When it flushes is refusal-tally.spec.ts's (on jest's clock); here: that it does, once.
    it('reports refusals on its own, once', async () => {
      const def = await newDrop({ paused: true });
      await Promise.all(Array.from({ length: 30 }, (_, i) => grab(def.id, `f${i % 3}`)));
      const counted = async () => (await inventory.counters(def.id)).rejections.SALE_PAUSED;
      expect(await eventually(async () => (await counted()) === 30, 10_000, 20)).toBe(true);
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
        seq: 1,
      };
      expect(all[2].data).toEqual(accepted);
      expect(all[1].data).toEqual({ dropId: def.id, fanId: 'fan-1', referrerId: 'fan-ref' });
      expect(all.every((e) => e.version === 1 && e.at > 0)).toBe(true);
      expect(order.order.amountMinor).toBe(3 * 10 ** 12);
      expect(order.order.expiresAt - order.order.createdAt).toBe(600_000);
    });

    it("the drop's first sale and sell-out are the instants of the first grab and of the one that took the last unit, kept when a unit comes back", async () => {
      const def = await newDrop({ reservationRequired: false, quantity: 2 });
      const first = await held(def.id, 'first-buyer');
      expect(await inventory.counters(def.id)).toMatchObject({
        firstSaleAt: first.createdAt,
        soldOutAt: undefined,
      });
      const last = await held(def.id, 'last-buyer');
      const soldOut = { firstSaleAt: first.createdAt, soldOutAt: last.createdAt };
      expect(await inventory.counters(def.id)).toMatchObject(soldOut);
      // A unit back and sold again: the first sell-out stays the drop's.
      expect((await inventory.cancelOrder(last.id)).ok).toBe(true);
      await held(def.id, 'later-buyer');
      expect(await stock(def.id)).toBe(0);
      expect(await inventory.counters(def.id)).toMatchObject(soldOut);
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
      // Out of the holds: nothing is left for the sweeper to meet.
      expect(await redis.zscore(dropKeys(def.id).holds, order.id)).toBeNull();
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

    it.each(roundNumbers(3))(
      'two sweepers and a cancel racing over the same holds return each unit once (round %i)',
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
      // Paying took the 30 out of the holds: put them back, due, so the sweepers meet them too.
      await Promise.all(firstOrders.slice(0, 30).map((o) => putInHolds(redis, o!.id, now - 1)));
      const sweeps = await Promise.all([inventory.expireDue(def.id), clients[0].expireDue(def.id)]);
      expect(sweeps.reduce((n, s) => n + s.scanned, 0)).toBeGreaterThanOrEqual(100);
      expect(sweeps.reduce((n, s) => n + s.expiredOrders, 0)).toBe(70);
      expect(await redis.zcard(dropKeys(def.id).holds)).toBe(0);
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
      expect(await redis.zscore(dropKeys(def.id).holds, order.id)).toBeNull();
      // Paid, it left the holds: put it back, due, where the sweepers will meet it.
      await putInHolds(redis, order.id, (await redisNow(redis)) - 1);
      const sweeps = await Promise.all([inventory.expireDue(def.id), clients[1].expireDue(def.id)]);
      expect(sweeps.map((s) => s.expiredOrders)).toEqual([0, 0]);
      expect(sweeps.reduce((n, s) => n + s.scanned, 0)).toBeGreaterThanOrEqual(1);
      expect(await redis.zscore(dropKeys(def.id).holds, order.id)).toBeNull();
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
      // Held again: no attempt is under way, so none is named.
      expect((await inventory.getOrder(order.id))?.payingUntil).toBeUndefined();
      const second = attemptOf(await inventory.beginPayment(order.id));
      await moveHoldDeadline(redis, order.id, (await redisNow(redis)) - 1);
      await Promise.all([
        inventory.abortPayment(order.id, second),
        clients[0].abortPayment(order.id, second),
      ]);
      const expired = await inventory.getOrder(order.id);
      expect(expired?.status).toBe('expired');
      // Released out of `paying`: the attempt's fence goes with it, and the holds let it go.
      expect(expired?.payingUntil).toBeUndefined();
      expect(await redis.zscore(dropKeys(def.id).holds, order.id)).toBeNull();
      expect(await stock(def.id)).toBe(100);
      expect((await inventory.counters(def.id)).expired).toBe(1);
    });

    it('gives every payment attempt of an order its own id, later than the last, even many in one millisecond', async () => {
      const { order } = await heldOrder();
      // The first attempt alone, to learn its id; then 49 begin/abort pairs sent back to back on
      // one connection without waiting: Redis runs them in order within a millisecond or two,
      // so most begins share a millisecond. Each fence is a second shorter than the one before,
      // so however slow Redis is, a begin's own now + ttl falls before the last id given: only
      // the bump (last + 1) keeps them apart, and each abort names the id the bump must give.
      const first = await inventory.beginPayment(order.id, { payingTtlMs: 60_000 });
      if (!first.ok || first.value.payingUntil === undefined) throw new Error('not begun');
      const id0 = first.value.payingUntil;
      expect((await inventory.abortPayment(order.id, id0)).ok).toBe(true);
      const aborts: Promise<unknown>[] = [];
      const begins = Array.from({ length: 49 }, (_, k) => {
        const begun = inventory.beginPayment(order.id, { payingTtlMs: 60_000 - (k + 1) * 1000 });
        aborts.push(inventory.abortPayment(order.id, id0 + k + 1));
        return begun;
      });
      const ids = [
        id0,
        ...(await Promise.all(begins)).map((b) => {
          if (!b.ok) throw new Error(b.code);
          return b.value.payingUntil ?? 0;
        }),
      ];
      await Promise.all(aborts);
      expect(ids).toEqual(ids.map((_, i) => id0 + i));
      expect((await inventory.getOrder(order.id))?.status).toBe('held');
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

    it('reports a payment whose fence lapsed as stale while its hold deadline is still ahead', async () => {
      const { def, order } = await heldOrder({ holdSeconds: 600 });
      const attempt = attemptOf(await inventory.beginPayment(order.id, { payingTtlMs: 1 }));
      // The holds wait for the fence now, not for the hold's deadline ten minutes on.
      expect(await redis.zscore(dropKeys(def.id).holds, order.id)).toBe(String(attempt));
      while ((await redisNow(redis)) <= attempt) await new Promise((r) => setTimeout(r, 2));
      expect((await inventory.expireDue(def.id)).stalePaying).toEqual([order.id]);
      expect(await inventory.getOrder(order.id)).toMatchObject({ status: 'paying' });
    });

    it('binds a payment Idempotency-Key to its order: the same key on another order of the fan is refused, nothing written', async () => {
      const def = await newDrop({ reservationRequired: false, perUserLimit: 2 });
      const fan = uniqueId('payer');
      const first = await held(def.id, fan);
      const second = await held(def.id, fan);
      expect(
        await inventory.beginPayment(first.id, { fanId: fan, idempotencyKey: 'pay-key-1' }),
      ).toMatchObject({ ok: true, value: { status: 'paying' } });
      const before = await inventory.getOrder(second.id);
      expect(
        await inventory.beginPayment(second.id, { fanId: fan, idempotencyKey: 'pay-key-1' }),
      ).toEqual({ ok: false, code: 'IDEMPOTENCY_KEY_REUSED' });
      expect(await inventory.getOrder(second.id)).toEqual(before);
      expect(await redis.zscore(dropKeys(def.id).holds, second.id)).toBe(String(second.expiresAt));
    });

    it('a paying order the sweep meets before its fence waits for the fence again, leaving the next batch to the holds due', async () => {
      const { def, order: paying } = await heldOrder();
      const attempt = attemptOf(await inventory.beginPayment(paying.id, { payingTtlMs: 300_000 }));
      const now = await redisNow(redis);
      // Its place in the holds says due (a hand edit, an old copy), its fence is minutes on.
      await putInHolds(redis, paying.id, now - 2);
      const due = await held(def.id, uniqueId('due'));
      await moveHoldDeadline(redis, due.id, now - 1);
      // A batch of one meets the paying order first: not expired, not stale, back at its fence.
      expect(await inventory.expireDue(def.id, 1)).toMatchObject({
        scanned: 1,
        expiredOrders: 0,
        stalePaying: [],
      });
      expect(await redis.zscore(dropKeys(def.id).holds, paying.id)).toBe(String(attempt));
      // So the next batch of one is the hold that is due.
      expect(await inventory.expireDue(def.id, 1)).toMatchObject({ scanned: 1, expiredOrders: 1 });
      expect((await inventory.getOrder(due.id))?.status).toBe('expired');
      expect((await inventory.getOrder(paying.id))?.status).toBe('paying');
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
      expect(await inventory.syncPhase(def.id)).toEqual({
        phase: 'on_sale',
        changed: true,
        parked: 0,
      });
      const changes = (await events(def.id)).filter((e) => e.type === 'drop.phase_changed');
      expect(changes.map((e) => e.data.phase)).toEqual(['reservation_open', 'on_sale']);
    });

    it('puts back every drop a crash left out of the active index, whatever slots the drops are on', async () => {
      // Drops of random ids: on a Redis Cluster (npm run test:cluster) they sit on different
      // slots, where one pipeline over their keys is refused, and the scheduler's every pass
      // failed with it ("All keys in the pipeline should belong to the same slots allocation
      // group"), so no phase change was announced on a cluster.
      const drops = await Promise.all(Array.from({ length: 8 }, () => newDrop()));
      for (const d of drops) await redis.srem(DROPS_ACTIVE_KEY, d.id);
      expect(await inventory.reconcileActive()).toBeGreaterThanOrEqual(drops.length);
      for (const d of drops) expect(await redis.sismember(DROPS_ACTIVE_KEY, d.id)).toBe(1);
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
      expect(await inventory.beginEdit(future.id, 2)).toEqual({ ok: true, value: undefined });
      expect((await inventory.viewDrop(future.id))?.pendingEdit).toBe(2);
      expect(await inventory.syncDrop({ ...future, quantity: 150, version: 2 })).toEqual({
        status: 'synced',
      });
      expect(await stock(future.id)).toBe(150);
      expect(await inventory.viewDrop(future.id)).toMatchObject({
        definition: { version: 2, quantity: 150 },
      });
      expect((await inventory.viewDrop(future.id))?.pendingEdit).toBeUndefined();
      expect(await inventory.cancelDrop(future.id)).toEqual({ ok: true, value: undefined });
      expect(await inventory.beginEdit(future.id, 3)).toEqual({ ok: false, code: 'DROP_LOCKED' });
      const live = await newDrop();
      expect(await inventory.cancelDrop(live.id)).toEqual({ ok: false, code: 'DROP_LOCKED' });
      expect(await inventory.beginEdit(live.id, 2)).toEqual({ ok: false, code: 'DROP_LOCKED' });
      expect(await inventory.beginEdit('d000000000000', 2)).toEqual({
        ok: false,
        code: 'NOT_FOUND',
      });
      expect(await inventory.syncDrop({ ...live, id: 'd000000000000' })).toEqual({
        status: 'missing',
      });
    });

    it('a sync never applies an older version, and refuses changes once the drop locked', async () => {
      const now = await redisNow(redis);
      const def = await newDrop({
        reservationOpensAt: now + 60_000,
        reservationClosesAt: now + 120_000,
        saleStartsAt: now + 120_000,
      });
      await inventory.syncDrop({ ...def, quantity: 120, version: 3 });
      expect(await inventory.syncDrop({ ...def, quantity: 110, version: 2 })).toEqual({
        status: 'synced',
      });
      expect(await stock(def.id)).toBe(120);
      // The lock passes (reservations open) before the next edit reaches Redis.
      await setDropTimes(redis, def.id, { reservationOpensAt: now - 1 });
      const late = await inventory.syncDrop({ ...def, quantity: 90, version: 4 });
      expect(late).toMatchObject({ status: 'locked', running: { quantity: 120, version: 3 } });
      expect(await stock(def.id)).toBe(120);
      // The same definition again (written back to PostgreSQL as version 5) is recorded.
      const running = late.status === 'locked' ? late.running : def;
      expect(await inventory.syncDrop({ ...running, version: 5 })).toEqual({ status: 'synced' });
      expect((await inventory.viewDrop(def.id))?.definition.version).toBe(5);
    });

    it('rebuilds a lost drop from its stored orders: held and paid stay out of stock', async () => {
      const def = dropDefinition(await redisNow(redis), {
        reservationRequired: false,
        quantity: 10,
        perUserLimit: 3,
      });
      const at = await redisNow(redis);
      const order = (n: number, status: InventoryOrder['status'], quantity = 1) => ({
        id: `${def.id}-${String(n).padStart(16, '0')}`,
        dropId: def.id,
        fanId: `fan-${n % 3}`,
        quantity,
        amountMinor: quantity * def.priceMinor,
        unitPriceMinor: def.priceMinor,
        discountMinor: 0,
        currency: def.currency,
        status,
        createdAt: at - 1000 + n,
        expiresAt: at + 600_000,
        ...(status === 'paid' ? { paidAt: at } : {}),
        // A payment in flight is stored with its attempt (begin_payment's order.paying): here one
        // that lapsed half a second ago, so the payment recovery's at once.
        ...(status === 'paying' ? { payingUntil: at - 500 } : {}),
      });
      const stored = [
        order(1, 'held', 2),
        order(2, 'paid'),
        order(3, 'cancelled'),
        order(4, 'expired'),
        order(5, 'paying'),
      ];
      await inventory.rebuildDrop(def, stored);
      await clients[0].rebuildDrop(def, stored);
      expect(await stock(def.id)).toBe(10 - 4);
      expect(await redis.hgetall(dropKeys(def.id).fans)).toEqual({
        'fan-0': '0',
        'fan-1': '2',
        'fan-2': '2',
      });
      expect(await redis.zcard(dropKeys(def.id).holds)).toBe(2);
      expect(await inventory.counters(def.id)).toMatchObject({
        held: 3,
        paid: 1,
        cancelled: 1,
        expired: 1,
        revenueMinor: def.priceMinor,
      });
      expect((await inventory.getOrder(stored[0].id))?.status).toBe('held');
      expect((await inventory.getOrder(stored[4].id))?.status).toBe('paying');
      // The paying order comes back with ITS attempt (the one a debit on its way names), its
      // place in the holds there; the recovery's abort (the wallet found no debit) names that
      // attempt and holds it again.
      const rebuiltPaying = (await inventory.getOrder(stored[4].id))!;
      expect(rebuiltPaying.payingUntil).toBe(at - 500);
      expect(await redis.zscore(dropKeys(def.id).holds, stored[4].id)).toBe(
        String(rebuiltPaying.payingUntil),
      );
      expect(await inventory.abortPayment(stored[4].id, rebuiltPaying.payingUntil!)).toMatchObject({
        ok: true,
        value: { status: 'held' },
      });
      expect((await inventory.storedSale(def.id))?.orders).toHaveLength(5);
      expect((await inventory.cancelOrder(stored[0].id)).ok).toBe(true);
      expect(await stock(def.id)).toBe(10 - 2);
    });

    it("a rebuilt drop's orders keep their price, share discount and refund", async () => {
      const def = dropDefinition(await redisNow(redis), {
        reservationRequired: false,
        shareDiscountMinor: 100,
      });
      const at = await redisNow(redis);
      const base = {
        dropId: def.id,
        quantity: 1,
        currency: def.currency,
        createdAt: at - 1000,
        expiresAt: at + 600_000,
      };
      const discounted: InventoryOrder = {
        ...base,
        id: `${def.id}-${'1'.repeat(16)}`,
        fanId: 'fan-sharer',
        amountMinor: def.priceMinor - 100,
        unitPriceMinor: def.priceMinor - 100,
        discountMinor: 100,
        status: 'paid',
        paidAt: at - 500,
      };
      const refunded: InventoryOrder = {
        ...base,
        id: `${def.id}-${'2'.repeat(16)}`,
        fanId: 'fan-refunded',
        amountMinor: def.priceMinor,
        unitPriceMinor: def.priceMinor,
        discountMinor: 0,
        status: 'refunded',
        paidAt: at - 500,
        refundedAt: at - 100,
        refundReason: 'damaged',
      };
      await inventory.rebuildDrop(def, [discounted, refunded]);
      expect(await inventory.getOrder(discounted.id)).toMatchObject(discounted);
      expect(await inventory.getOrder(refunded.id)).toMatchObject(refunded);
      expect(await inventory.counters(def.id)).toMatchObject({
        paid: 1,
        refunded: 1,
        revenueMinor: def.priceMinor - 100,
        discountsMinor: 100,
      });
      // The refunded unit is free again; the paid one is not.
      expect(await stock(def.id)).toBe(def.quantity - 1);
    });

    it("a rebuilt drop's allocation numbers go on past every number used before the loss", async () => {
      const def = dropDefinition(await redisNow(redis), { reservationRequired: false });
      const at = await redisNow(redis);
      // A hold passed down the waitlist is named by its allocation number (_lib backfill_hold).
      const passedDown: InventoryOrder = {
        id: `${def.id}-r${String(7).padStart(15, '0')}`,
        dropId: def.id,
        fanId: 'fan-w',
        quantity: 1,
        unitPriceMinor: def.priceMinor,
        discountMinor: 0,
        amountMinor: def.priceMinor,
        currency: def.currency,
        status: 'cancelled',
        createdAt: at - 1000,
        expiresAt: at + 600_000,
      };
      const allocated = async () => Number(await redis.hget(dropKeys(def.id).stats, 'allocSeq'));
      // The stored log's head is 5, a stored passed-down order used 7: numbering goes on at 8.
      await inventory.rebuildDrop(def, [passedDown], 5);
      expect(await allocated()).toBe(7);
      // A later rebuild (another instance, a rerun) never moves it back.
      await clients[0].rebuildDrop(def, [passedDown], 3);
      expect(await allocated()).toBe(7);
      const empty = dropDefinition(await redisNow(redis), { reservationRequired: false });
      await inventory.rebuildDrop(empty, [], 12);
      expect(Number(await redis.hget(dropKeys(empty.id).stats, 'allocSeq'))).toBe(12);
    });
  });

  /**
   * Every refusal (and every no-op answer) of every script, read against every key of the drop
   * (dropSnapshot: the definition, stock, reservations, the fans' counts and order lists, orders,
   * holds, idempotency answers, counters, the outbox stream, the index): nothing may change.
   * What a grab refusal is meant to leave is checked on its own below: the Idempotency-Key's
   * stored answer at once, the tally's counters and event when it is flushed.
   */
  describe('every refusal of every script writes nothing', () => {
    interface Case {
      /** Arranges the state, answers the drop to watch and the refused step. */
      arrange(): Promise<{ dropId: string; act: () => Promise<unknown> }>;
      answer: unknown;
      /** A grab refusal the tally counts: its flush is the one write allowed (see below). */
      tallied?: string;
    }

    const refused = (code: string) => ({ ok: false, code });
    const onSale = (o: Partial<DropDefinition> = {}) =>
      newDrop({ reservationRequired: false, ...o });
    const withOrder = async (o: Partial<DropDefinition> = {}) => {
      const def = await onSale(o);
      return { def, order: await held(def.id, uniqueId('fan')) };
    };
    const soon = async () => (await redisNow(redis)) + 3_600_000;

    const cases: [string, Case][] = [
      [
        'grab: unknown drop',
        {
          arrange: async () => ({ dropId: 'd0000000000ff', act: () => grab('d0000000000ff', 'f') }),
          answer: refused('NOT_FOUND'),
        },
      ],
      [
        'grab: quantity above perUserLimit (with a key: none stored)',
        {
          arrange: async () => {
            const def = await onSale();
            return { dropId: def.id, act: () => grab(def.id, 'f', { quantity: 2, key: 'k' }) };
          },
          answer: { ok: false, code: 'VALIDATION_FAILED' },
        },
      ],
      ...(
        [
          ['SALE_ENDED', async () => onSale({ cancelled: true })],
          [
            'SALE_ENDED',
            async () => onSale({ saleStartsAt: (await soon()) - 7e6, saleEndsAt: Date.now() - 1 }),
          ],
          ['SALE_NOT_STARTED', async () => onSale({ saleStartsAt: await soon() })],
          ['SALE_PAUSED', async () => onSale({ paused: true })],
          ['NOT_RESERVED', async () => newDrop()],
          [
            'LIMIT_REACHED',
            async () => {
              const def = await onSale();
              await held(def.id, 'f');
              return def;
            },
          ],
          [
            'SOLD_OUT',
            async () => {
              const def = await onSale({ quantity: 1 });
              await held(def.id, 'other');
              return def;
            },
          ],
        ] as [string, () => Promise<DropDefinition>][]
      ).map(([code, drop], i): [string, Case] => [
        `grab: ${code}${i < 2 ? (i === 0 ? ' (cancelled)' : ' (the sale over)') : ''}`,
        {
          arrange: async () => {
            const def = await drop();
            return { dropId: def.id, act: () => grab(def.id, 'f') };
          },
          answer: refused(code),
          tallied: code,
        },
      ]),
      [
        'grab: a replayed refusal',
        {
          arrange: async () => {
            const def = await onSale({ paused: true });
            await grab(def.id, 'f', { key: 'k' });
            await inventory.refusals.flush();
            return { dropId: def.id, act: () => grab(def.id, 'f', { key: 'k' }) };
          },
          answer: refused('SALE_PAUSED'),
        },
      ],
      [
        'reserve: unknown drop',
        {
          arrange: async () => ({
            dropId: 'd0000000000fe',
            act: () => inventory.reserve('d0000000000fe', 'f'),
          }),
          answer: refused('NOT_FOUND'),
        },
      ],
      [
        'reserve: before the window',
        {
          arrange: async () => {
            const at = await soon();
            const def = await newDrop({
              reservationOpensAt: at,
              reservationClosesAt: at + 1,
              saleStartsAt: at + 1,
            });
            return { dropId: def.id, act: () => inventory.reserve(def.id, 'f', 'ref') };
          },
          answer: refused('RESERVATION_NOT_OPEN'),
        },
      ],
      [
        'reserve: after the window',
        {
          arrange: async () => {
            const now = await redisNow(redis);
            const def = await newDrop({
              reservationOpensAt: now - 2,
              reservationClosesAt: now - 1,
            });
            return { dropId: def.id, act: () => inventory.reserve(def.id, 'f', 'ref') };
          },
          answer: refused('RESERVATION_CLOSED'),
        },
      ],
      [
        'reserve: a cancelled drop',
        {
          arrange: async () => {
            const def = await newDrop({ cancelled: true });
            return { dropId: def.id, act: () => inventory.reserve(def.id, 'f', 'ref') };
          },
          answer: refused('RESERVATION_CLOSED'),
        },
      ],
      [
        'reserve: no window, the sale over',
        {
          arrange: async () => {
            const def = await onSale({
              reservationOpensAt: undefined,
              reservationClosesAt: undefined,
              saleEndsAt: (await redisNow(redis)) - 1,
            });
            return { dropId: def.id, act: () => inventory.reserve(def.id, 'f', 'ref') };
          },
          answer: refused('RESERVATION_CLOSED'),
        },
      ],
      [
        'reserve: again (the first answer)',
        {
          arrange: async () => {
            const def = await newDrop();
            await inventory.reserve(def.id, 'f');
            return { dropId: def.id, act: () => inventory.reserve(def.id, 'f', 'ref') };
          },
          answer: { ok: true, value: { created: false } },
        },
      ],
      ...(
        [
          [
            'cancel: another fan',
            (id: string) => inventory.cancelOrder(id, 'someone-else'),
            'NOT_FOUND',
          ],
          [
            'begin: another fan',
            (id: string) => inventory.beginPayment(id, { fanId: 'x' }),
            'NOT_FOUND',
          ],
          ['abort: a held order', (id: string) => inventory.abortPayment(id, 0), 'OK'],
        ] as const
      ).map(([name, step, code]): [string, Case] => [
        name,
        {
          arrange: async () => {
            const { def, order } = await withOrder();
            return { dropId: def.id, act: () => step(order.id) };
          },
          answer: code === 'OK' ? { ok: true } : refused(code),
        },
      ]),
      ...(
        [
          ['cancel', (id: string) => inventory.cancelOrder(id), 'PAYMENT_IN_PROGRESS'],
          ['begin', (id: string) => inventory.beginPayment(id), 'PAYMENT_IN_PROGRESS'],
          ['abort of another attempt', (id: string) => inventory.abortPayment(id, 1), 'OK'],
        ] as const
      ).map(([name, step, code]): [string, Case] => [
        `${name}: a paying order`,
        {
          arrange: async () => {
            const { def, order } = await withOrder();
            await inventory.beginPayment(order.id);
            return { dropId: def.id, act: () => step(order.id) };
          },
          answer: code === 'OK' ? { ok: true, value: { status: 'paying' } } : refused(code),
        },
      ]),
      ...(
        [
          ['cancel', (id: string) => inventory.cancelOrder(id), 'ORDER_PAID'],
          ['begin', (id: string) => inventory.beginPayment(id), 'ORDER_PAID'],
          ['abort', (id: string) => inventory.abortPayment(id, 0), 'ORDER_PAID'],
          ['complete', (id: string) => inventory.completePayment(id), 'OK'],
        ] as const
      ).map(([name, step, code]): [string, Case] => [
        `${name}: a paid order`,
        {
          arrange: async () => {
            const { def, order } = await withOrder();
            await inventory.beginPayment(order.id);
            await inventory.completePayment(order.id);
            return { dropId: def.id, act: () => step(order.id) };
          },
          answer: code === 'OK' ? { ok: true, value: { status: 'paid' } } : refused(code),
        },
      ]),
      ...(
        [
          ['cancel', (id: string) => inventory.cancelOrder(id), 'OK'],
          ['begin', (id: string) => inventory.beginPayment(id), 'ORDER_CANCELLED'],
          ['complete', (id: string) => inventory.completePayment(id), 'ORDER_CANCELLED'],
          ['abort', (id: string) => inventory.abortPayment(id, 0), 'OK'],
        ] as const
      ).map(([name, step, code]): [string, Case] => [
        `${name}: a cancelled order`,
        {
          arrange: async () => {
            const { def, order } = await withOrder();
            await inventory.cancelOrder(order.id);
            return { dropId: def.id, act: () => step(order.id) };
          },
          answer: code === 'OK' ? { ok: true, value: { status: 'cancelled' } } : refused(code),
        },
      ]),
      ...(
        [
          ['cancel', (id: string) => inventory.cancelOrder(id), 'HOLD_EXPIRED'],
          ['begin', (id: string) => inventory.beginPayment(id), 'HOLD_EXPIRED'],
          ['complete', (id: string) => inventory.completePayment(id), 'HOLD_EXPIRED'],
        ] as const
      ).map(([name, step, code]): [string, Case] => [
        `${name}: an expired order`,
        {
          arrange: async () => {
            const { def, order } = await withOrder();
            await moveHoldDeadline(redis, order.id, (await redisNow(redis)) - 1);
            await inventory.expireDue(def.id);
            return { dropId: def.id, act: () => step(order.id) };
          },
          answer: refused(code),
        },
      ]),
      ...(
        [
          ['cancel', (id: string) => inventory.cancelOrder(id)],
          ['begin', (id: string) => inventory.beginPayment(id)],
          ['complete', (id: string) => inventory.completePayment(id)],
          ['abort', (id: string) => inventory.abortPayment(id, 0)],
        ] as const
      ).map(([name, step]): [string, Case] => [
        `${name}: no such order`,
        {
          arrange: async () => {
            const def = await onSale();
            return { dropId: def.id, act: () => step(`${def.id}-00000000000000ff`) };
          },
          answer: refused('NOT_FOUND'),
        },
      ]),
      [
        'expire_due: nothing due',
        {
          arrange: async () => {
            const { def } = await withOrder();
            return { dropId: def.id, act: () => inventory.expireDue(def.id) };
          },
          answer: { expiredOrders: 0, unitsReturned: 0, scanned: 0, stalePaying: [] },
        },
      ],
      [
        'begin an edit: a locked drop',
        {
          arrange: async () => {
            const def = await onSale();
            return { dropId: def.id, act: () => inventory.beginEdit(def.id, def.version + 1) };
          },
          answer: refused('DROP_LOCKED'),
        },
      ],
      [
        'begin an edit: a cancelled drop',
        {
          arrange: async () => {
            const def = await onSale({ saleStartsAt: await soon(), cancelled: true });
            return { dropId: def.id, act: () => inventory.beginEdit(def.id, def.version + 1) };
          },
          answer: refused('DROP_LOCKED'),
        },
      ],
      [
        'begin an edit: unknown drop',
        {
          arrange: async () => {
            const def = dropDefinition(await redisNow(redis), { id: 'd0000000000fd' });
            return { dropId: def.id, act: () => inventory.beginEdit(def.id, def.version + 1) };
          },
          answer: refused('NOT_FOUND'),
        },
      ],
      [
        'create: a drop that exists (a retried create)',
        {
          arrange: async () => {
            const def = await onSale();
            return { dropId: def.id, act: () => inventory.createDrop({ ...def, quantity: 7 }) };
          },
          answer: undefined,
        },
      ],
      [
        'pause: a cancelled drop',
        {
          arrange: async () => {
            const def = await onSale({ cancelled: true });
            return { dropId: def.id, act: () => inventory.setPaused(def.id, true) };
          },
          answer: refused('DROP_LOCKED'),
        },
      ],
      [
        'pause: already paused',
        {
          arrange: async () => {
            const def = await onSale({ paused: true });
            return { dropId: def.id, act: () => inventory.setPaused(def.id, true) };
          },
          answer: { ok: true },
        },
      ],
      [
        'cancel drop: the sale has started',
        {
          arrange: async () => {
            const def = await onSale();
            return { dropId: def.id, act: () => inventory.cancelDrop(def.id) };
          },
          answer: refused('DROP_LOCKED'),
        },
      ],
      [
        'cancel drop: already cancelled',
        {
          arrange: async () => {
            const def = await onSale({ saleStartsAt: await soon(), cancelled: true });
            return { dropId: def.id, act: () => inventory.cancelDrop(def.id) };
          },
          answer: { ok: true },
        },
      ],
      [
        'share: unknown drop',
        {
          arrange: async () => ({
            dropId: 'd0000000000fc',
            act: () => inventory.share('d0000000000fc', 'f', 'weibo'),
          }),
          answer: refused('NOT_FOUND'),
        },
      ],
      [
        'sync_phase: the phase already announced',
        {
          arrange: async () => {
            const def = await onSale();
            await inventory.syncPhase(def.id);
            return { dropId: def.id, act: () => inventory.syncPhase(def.id) };
          },
          answer: { phase: 'on_sale', changed: false },
        },
      ],
      [
        'view_drop: always',
        {
          arrange: async () => {
            const def = await onSale();
            return { dropId: def.id, act: () => inventory.viewDrop(def.id) };
          },
          answer: { phase: 'on_sale', remaining: 100 },
        },
      ],
      [
        'count_refusals: unknown drop',
        {
          arrange: async () => ({
            dropId: 'd0000000000fb',
            act: async () => {
              inventory.refusals.record('d0000000000fb', 'SOLD_OUT');
              await inventory.refusals.flush();
            },
          }),
          answer: undefined,
        },
      ],
    ];

    it.each(cases)('%s', async (_name, { arrange, answer, tallied }) => {
      const { dropId, act } = await arrange();
      await inventory.refusals.flush();
      const before = await dropSnapshot(redis, dropId);
      const result = await act();
      if (answer === undefined) expect(result).toBeUndefined();
      else expect(result).toMatchObject(answer as object);
      // Flushed now rather than whenever its timer fires: the comparison cannot race it.
      await inventory.refusals.flush();
      const after = await dropSnapshot(redis, dropId);
      const diff = namingReceipts(snapshotDiff(before, after), dropId);
      expect(diff).toEqual(tallied ? refusalTallyWrites({ before, after }, dropId, tallied) : {});
    });

    it.each(['SALE_ENDED', 'SALE_NOT_STARTED', 'SALE_PAUSED', 'NOT_RESERVED', 'SOLD_OUT'])(
      'grab refused %s with an Idempotency-Key leaves its stored answer and the tally, nothing else',
      async (code) => {
        const now = await redisNow(redis);
        const def = await newDrop({
          cancelled: code === 'SALE_ENDED',
          saleStartsAt: code === 'SALE_NOT_STARTED' ? now + 3_600_000 : now - 1_000,
          paused: code === 'SALE_PAUSED',
          reservationRequired: code === 'NOT_RESERVED',
          quantity: code === 'SOLD_OUT' ? 1 : 100,
        });
        if (code === 'SOLD_OUT') await held(def.id, 'other');
        await inventory.refusals.flush();
        const before = await dropSnapshot(redis, def.id);
        expect(await grab(def.id, 'f', { key: 'k' })).toEqual(refused(code));
        await inventory.refusals.flush();
        const after = await dropSnapshot(redis, def.id);
        const [field, value] = grabIdempotencyEntry(def.id, 'f', 'k', 1, `E:${code}`);
        expect(namingReceipts(snapshotDiff(before, after), def.id)).toEqual({
          [field]: [undefined, value],
          ...refusalTallyWrites({ before, after }, def.id, code),
        });
        const last = (await events(def.id)).pop();
        expect(last).toMatchObject({
          type: 'grab.rejected',
          data: { dropId: def.id, code, count: 1 },
        });
      },
    );
  });
});

/** The attempt a begun payment names (its payingUntil), for abortPayment. */
function attemptOf(begun: Awaited<ReturnType<Inventory['beginPayment']>>): number {
  const attempt = begun.ok ? begun.value.payingUntil : undefined;
  if (attempt === undefined) throw new Error(`payment not begun: ${JSON.stringify(begun)}`);
  return attempt;
}
