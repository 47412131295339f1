import { FlashdropConfig, loadConfig } from '@flashdrop/config';
import { entrantsDigest, seedCommitment, shuffle, sortEntrants } from '@flashdrop/fair';
import { allocationKindOf, DrawSteps, Inventory, OutboxStreamGroups } from '@flashdrop/inventory';
import { createRedis } from '@flashdrop/persistence';
import { migrateSales, SalesDatabase } from '@flashdrop/sales';
import {
  DedicatedRedis,
  dropDefinition,
  dropKeys,
  freshDatabase,
  outboxEvents,
  redisNow,
  setDropTimes,
  slotPort,
  testProfileEnv,
} from '@flashdrop/testing';
import Redis from 'ioredis';
import { DrawRunner } from './draw-runner';

/**
 * The draw, pass by pass, on a Redis and a database of the test's own (no worker of the stack
 * may run these draws): the commitment when reservations close, the steps from saleStartsAt,
 * each step safe to repeat, a pause that holds the winners' holds back, the result published.
 */
describe('DrawRunner (draw scripts + published record, real Redis and PostgreSQL)', () => {
  const server = new DedicatedRedis(slotPort(6599));
  let redis: Redis;
  let inventory: Inventory;
  let steps: DrawSteps;
  let sales: SalesDatabase;

  beforeAll(async () => {
    server.start();
    redis = createRedis(server.url);
    await redis.flushdb();
    inventory = new Inventory(redis);
    steps = new DrawSteps(redis);
    const config = loadConfig(FlashdropConfig, {
      ...testProfileEnv(),
      DATABASE_URL: await freshDatabase('draw_runner'),
    });
    await migrateSales(config);
    sales = SalesDatabase.pool(config, { applicationName: 'draw-runner-test', poolSize: 2 });
    await sales.open();
  }, 60_000);
  afterAll(async () => {
    await sales?.close();
    redis?.disconnect();
    server.stop();
  });

  const runner = (stepFans = 7) => new DrawRunner(inventory, steps, sales.draws, { stepFans });

  /** A draw drop whose `entrants` fans reserved, window still open, sale an hour away. */
  async function drawDrop(entrants: number, quantity: number) {
    const now = await redisNow(redis);
    const def = dropDefinition(now, {
      quantity,
      allocation: 'draw',
      reservationClosesAt: now + 3_600_000,
      saleStartsAt: now + 3_600_000,
      holdSeconds: 300,
    });
    await inventory.createDrop(def);
    const fans = Array.from({ length: entrants }, (_, i) => `${def.id}-fan-${i}`);
    await Promise.all(fans.map((f) => inventory.reserve(def.id, f)));
    return { def, fans };
  }

  async function close(dropId: string, startSale: boolean) {
    const now = (await redisNow(redis)) - 1;
    await setDropTimes(redis, dropId, {
      reservationClosesAt: now,
      saleStartsAt: startSale ? now : now + 3_600_000,
    });
  }

  /** The data of the drop's outbox events of one type, in stream order. */
  const eventsOf = async (dropId: string, type: string) =>
    (await outboxEvents(redis, dropId, type)).map((e) => e.data);

  it('commits when reservations close, draws at saleStartsAt, publishes the result', async () => {
    const { def, fans } = await drawDrop(60, 10);
    const r = runner();
    expect(await r.advance(def.id)).toBe('waiting');
    expect(await steps.record(def.id)).toBeUndefined();

    await close(def.id, false);
    expect(await r.advance(def.id)).toBe('waiting');
    const committed = (await sales.draws.find(def.id))!;
    const entrants = sortEntrants(fans);
    expect(committed).toMatchObject({
      entrants: 60,
      entrantsDigest: entrantsDigest(entrants),
      pageSize: 1000,
    });
    expect(committed.seed).toBeUndefined();
    expect(await sales.draws.allEntrants(def.id)).toEqual(entrants);
    // Nothing handed out before the sale starts.
    expect(await redis.zcard(dropKeys(def.id).waitlist)).toBe(0);

    await setDropTimes(redis, def.id, { saleStartsAt: (await redisNow(redis)) - 1 });
    expect(await r.advance(def.id)).toBe('done');
    const drawn = (await sales.draws.find(def.id))!;
    expect(seedCommitment(drawn.seed!)).toBe(committed.seedCommitment);
    const order = shuffle(entrants, drawn.seed!);
    expect(drawn.winners).toEqual(order.slice(0, 10));
    expect(await redis.zrange(dropKeys(def.id).waitlist, 0, -1)).toEqual(order.slice(10));
    const sale = (await inventory.storedSale(def.id))!;
    expect(sale.stock).toBe(0);
    const holds = sale.orders.filter((o) => o.status === 'held');
    expect(holds).toHaveLength(10);
    for (const o of holds) {
      expect(allocationKindOf(o.id)).toBe('draw');
      expect(o.fanId).toBe(order[Number(o.id.slice(-15))]);
      expect(o.expiresAt - o.createdAt).toBe(300_000);
    }
    expect(sale.allocated).toBe(10);
    // Each winner's hold is one the sweeper meets at its deadline, and the drop's counters say
    // what the draw handed out: 10 held by 10 winners, the first sale at the first winner's
    // hold and the sell-out at the last one's (the runner places 7 a step: two steps, whose
    // instants may differ).
    for (const o of holds)
      expect(await redis.zscore(dropKeys(def.id).holds, o.id)).toBe(String(o.expiresAt));
    const placedAt = holds.map((o) => o.createdAt);
    expect(await inventory.counters(def.id)).toMatchObject({
      held: 10,
      winners: 10,
      firstSaleAt: Math.min(...placedAt),
      soldOutAt: Math.max(...placedAt),
    });
    // The line announced step by step (7 fans a step): every loser once, each step from the
    // rank the last one ended at.
    const waitlisted = await eventsOf(def.id, 'draw.waitlisted');
    expect(waitlisted.map((e) => [e.fromRank, e.count])).toEqual([
      [10, 7],
      [17, 7],
      [24, 7],
      [31, 7],
      [38, 7],
      [45, 7],
      [52, 7],
      [59, 1],
    ]);
    // Drawn once: the instant recorded, announced once.
    const drawnAt = (await steps.record(def.id))!.drawnAt;
    expect(drawnAt).toBeGreaterThanOrEqual(Math.max(...placedAt));
    expect(await eventsOf(def.id, 'draw.completed')).toEqual([
      expect.objectContaining({ winners: 10, waitlisted: 50, seed: drawn.seed }),
    ]);
    // A pass over a finished draw changes nothing.
    expect(await runner().advance(def.id)).toBe('done');
    expect((await inventory.storedSale(def.id))!.orders).toHaveLength(10);
    expect((await steps.record(def.id))!.drawnAt).toBe(drawnAt);
    expect(await eventsOf(def.id, 'draw.completed')).toHaveLength(1);
  });

  it('a line longer than one ZADD of the script (1,000 fans) is placed whole, in the shuffle order', async () => {
    const { def } = await drawDrop(1_010, 5);
    await close(def.id, true);
    // The worker's default step (DRAW_STEP_FANS 2000): the 1,005 losers in one step.
    expect(await runner(2_000).advance(def.id)).toBe('done');
    const drawn = (await sales.draws.find(def.id))!;
    const order = shuffle(await sales.draws.allEntrants(def.id), drawn.seed!);
    expect(await redis.zrange(dropKeys(def.id).waitlist, 0, -1)).toEqual(order.slice(5));
    expect(await eventsOf(def.id, 'draw.waitlisted')).toEqual([
      expect.objectContaining({ fromRank: 5, count: 1_005 }),
    ]);
  }, 60_000);

  it('every step is safe to repeat: steps run twice, out of turn and by two runners', async () => {
    const { def } = await drawDrop(45, 8);
    await close(def.id, true);
    const a = runner(5);
    const b = runner(3);
    // Two runners at once, as two workers whose leases overlapped.
    await Promise.all([a.advance(def.id), b.advance(def.id), a.advance(def.id)]);
    const record = (await steps.record(def.id))!;
    expect(record).toMatchObject({ winners: 8, winApplied: 8, waitApplied: 37 });
    const seed = (await steps.secretSeed(def.id))!;
    const entrants = await sales.draws.allEntrants(def.id);
    const order = shuffle(entrants, seed);
    // Repeating an old step, or a commitment with another seed, does nothing.
    expect(await steps.placeLosers(def.id, 8, order.slice(8, 20))).toEqual({
      ok: false,
      code: 'DRAWN',
    });
    const again = await steps.commit(def.id, {
      seed: 'another',
      seedCommitment: seedCommitment('another'),
      entrants: 45,
      entrantsDigest: 'x',
    });
    expect(again).toMatchObject({ ok: true, value: { created: false } });
    expect(await steps.secretSeed(def.id)).toBe(seed);
    const sale = (await inventory.storedSale(def.id))!;
    expect(sale.orders.map((o) => o.fanId).sort()).toEqual(order.slice(0, 8).sort());
    expect(new Set(sale.orders.map((o) => o.fanId)).size).toBe(8);
    expect(await redis.zcard(dropKeys(def.id).waitlist)).toBe(37);
  });

  it('a step from a later rank than the cursor is refused (GAP), writing nothing', async () => {
    const { def } = await drawDrop(20, 5);
    await close(def.id, false);
    await runner().advance(def.id);
    const before = await redis.zcard(dropKeys(def.id).waitlist);
    expect(await steps.placeLosers(def.id, 9, ['x', 'y'])).toEqual({ ok: false, code: 'GAP' });
    expect(await steps.placeWinners(def.id, 0, ['x'])).toEqual({
      ok: false,
      code: 'LINE_NOT_BUILT',
    });
    expect(await redis.zcard(dropKeys(def.id).waitlist)).toBe(before);
  });

  it('a pause at saleStartsAt holds the draw back; the resume lets it finish', async () => {
    const { def } = await drawDrop(12, 4);
    await close(def.id, true);
    await inventory.setPaused(def.id, true);
    expect(await runner().advance(def.id)).toBe('waiting');
    expect((await inventory.storedSale(def.id))!.orders).toHaveLength(0);
    await inventory.setPaused(def.id, false);
    expect(await runner().advance(def.id)).toBe('done');
    expect((await inventory.storedSale(def.id))!.orders).toHaveLength(4);
  });

  /**
   * What the worker does between passes: the reservations counted (announced), then every
   * group (the relay, order persistence) reads the drop's outbox to its end.
   */
  async function settleAsTheWorker(dropId: string) {
    await inventory.countReservations(dropId);
    const stream = dropKeys(dropId).events;
    for (const group of Object.values(OutboxStreamGroups)) {
      await redis.xgroup('CREATE', stream, group, '0', 'MKSTREAM').catch(() => undefined);
      const read = (await redis.xreadgroup('GROUP', group, 'test', 'STREAMS', stream, '>')) as
        [string, [string, string[]][]][] | null;
      const ids = (read?.[0]?.[1] ?? []).map(([id]) => id);
      if (ids.length > 0) await redis.xack(stream, group, ...ids);
    }
  }

  it('a draw paused past saleEndsAt: the drop is not retired undrawn, and the resume draws it', async () => {
    const { def } = await drawDrop(12, 4);
    await close(def.id, true);
    await inventory.setPaused(def.id, true);
    expect(await runner().advance(def.id)).toBe('waiting');
    await setDropTimes(redis, def.id, { saleEndsAt: (await redisNow(redis)) - 1 });
    // Over, holding nothing, its outbox read: a first-come drop would retire here.
    await settleAsTheWorker(def.id);
    expect(Number((await redis.hget(dropKeys(def.id).stats, 'resPending')) ?? 0)).toBe(0);
    expect(await inventory.retireIfDone(def.id)).toBe(false);
    expect(await inventory.activeDropIds()).toContain(def.id);
    expect(await redis.hget(dropKeys(def.id).drop, 'retired')).toBeNull();

    // The entrants were promised this draw: the resume runs it, each winner with a full hold.
    await inventory.setPaused(def.id, false);
    expect(await runner().advance(def.id)).toBe('done');
    const holds = (await inventory.storedSale(def.id))!.orders;
    expect(holds).toHaveLength(4);
    for (const o of holds) {
      expect(o).toMatchObject({ status: 'held' });
      expect(o.expiresAt - o.createdAt).toBe(300_000);
    }
    expect((await sales.draws.find(def.id))!.winners).toHaveLength(4);
    // Released after the end, a winner's unit goes back to stock, not down the line.
    expect((await inventory.cancelOrder(holds[0].id)).ok).toBe(true);
    expect((await inventory.storedSale(def.id))!.stock).toBe(1);
    // Drawn, and once nothing is held and everything is read, it retires.
    for (const o of holds.slice(1)) expect((await inventory.cancelOrder(o.id)).ok).toBe(true);
    await settleAsTheWorker(def.id);
    expect(await inventory.retireIfDone(def.id)).toBe(true);
    // Retired: its outbox, read by every group, emptied; the flag that lets a later event bring
    // it back (revive) set: a pause is such an event, and the drop is active again.
    expect(await redis.xlen(dropKeys(def.id).events)).toBe(0);
    expect(await redis.hget(dropKeys(def.id).drop, 'retired')).toBe('1');
    expect(await inventory.activeDropIds()).not.toContain(def.id);
    expect((await inventory.setPaused(def.id, true)).ok).toBe(true);
    expect(await inventory.activeDropIds()).toContain(def.id);
  });

  it('fewer entrants than units: every entrant wins, the rest stays in stock', async () => {
    const { def } = await drawDrop(3, 10);
    await close(def.id, true);
    expect(await runner().advance(def.id)).toBe('done');
    const sale = (await inventory.storedSale(def.id))!;
    expect(sale.orders).toHaveLength(3);
    expect(sale.stock).toBe(7);
    expect((await sales.draws.find(def.id))!.winners).toHaveLength(3);
  });

  it('a draw with no entrants is done with no winners', async () => {
    const { def } = await drawDrop(0, 10);
    await close(def.id, true);
    expect(await runner().advance(def.id)).toBe('done');
    expect(await sales.draws.find(def.id)).toMatchObject({ entrants: 0, winners: [] });
  });
});
