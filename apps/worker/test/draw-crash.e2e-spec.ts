import { FlashdropConfig, loadConfig } from '@flashdrop/config';
import { OutboxStreamFields } from '@flashdrop/events';
import { seedCommitment, shuffle } from '@flashdrop/fair';
import { allocationKindOf, DrawSteps, Inventory } from '@flashdrop/inventory';
import { migrateWallet } from '@flashdrop/ledger';
import { createRedis } from '@flashdrop/persistence';
import { migrateSales, SalesDatabase } from '@flashdrop/sales';
import {
  DedicatedRedis,
  dropDefinition,
  dropKeys,
  eventually,
  freshDatabase,
  redisNow,
  ServiceProcess,
  setDropTimes,
  slotPort,
  testProfileEnv,
} from '@flashdrop/testing';
import Redis from 'ioredis';

const ENTRANTS = 10_000;
const UNITS = 1_000;

/**
 * `kill -9` of the worker running a draw, in the middle of it, twice (while it builds the line,
 * then while it gives the winners their holds), and a restart each time: the draw completes
 * once, with the winners the committed seed gives, and no winner holds two units. On a Redis and
 * a database of the test's own, with a worker of its own (the stack's worker must not run it).
 */
describe('a draw survives kill -9 of its worker', () => {
  const redisServer = new DedicatedRedis(slotPort(6583));
  const workerPort = slotPort(3583);
  let redis: Redis;
  let inventory: Inventory;
  let steps: DrawSteps;
  let sales: SalesDatabase;
  let env: Record<string, string>;

  beforeAll(async () => {
    redisServer.start();
    redis = createRedis(redisServer.url);
    await redis.flushdb();
    inventory = new Inventory(redis);
    steps = new DrawSteps(redis);
    const databaseUrl = await freshDatabase('draw_crash');
    const config = loadConfig(FlashdropConfig, { ...testProfileEnv(), DATABASE_URL: databaseUrl });
    await migrateSales(config);
    await migrateWallet(config);
    sales = SalesDatabase.pool(config, { applicationName: 'draw-crash-test', poolSize: 2 });
    await sales.open();
    env = {
      REDIS_URL: redisServer.url,
      DATABASE_URL: databaseUrl,
      WORKER_HTTP_PORT: String(workerPort),
      // Not the streams' relay: it would trim the outbox this test reads (and send its events
      // to the stack's topics). The wallet's, over this test's own empty table, moves nothing.
      RELAYS: 'wallet-outbox',
      // Small steps, so the draw takes long enough to be killed in the middle of.
      DRAW_STEP_FANS: '10',
    };
  }, 60_000);
  afterAll(async () => {
    await sales?.close();
    redis?.disconnect();
    redisServer.stop();
  });

  async function startWorker(): Promise<ServiceProcess> {
    const worker = new ServiceProcess('worker', env);
    worker.start();
    await worker.waitForHttp(`http://127.0.0.1:${workerPort}/health/live`);
    return worker;
  }

  /** Polls the draw's cursors until `when` holds, then kill -9 the worker at once. */
  async function killWhen(
    worker: ServiceProcess,
    when: (r: { waitApplied: number; winApplied: number }) => boolean,
  ) {
    const seen = await eventually(
      async () => {
        const r = await steps.record(dropId);
        return r !== undefined && when(r);
      },
      120_000,
      2,
    );
    worker.kill9();
    expect(seen).toBe(true);
    return (await steps.record(dropId))!;
  }

  let dropId = '';

  it(`${ENTRANTS} entrants, ${UNITS} units: killed mid-line and mid-winners, done once`, async () => {
    const now = await redisNow(redis);
    const def = dropDefinition(now, {
      quantity: UNITS,
      allocation: 'draw',
      reservationClosesAt: now + 3_600_000,
      saleStartsAt: now + 3_600_000,
    });
    dropId = def.id;
    await inventory.createDrop(def);
    const fans = Array.from({ length: ENTRANTS }, (_, i) => `fan-${i}`);
    for (let i = 0; i < fans.length; i += 1000) {
      await Promise.all(fans.slice(i, i + 1000).map((f) => inventory.reserve(dropId, f)));
    }
    const t = (await redisNow(redis)) - 1;
    await setDropTimes(redis, dropId, { reservationClosesAt: t, saleStartsAt: t });

    let worker = await startWorker();
    const midLine = await killWhen(
      worker,
      (r) => r.waitApplied > 1000 && r.waitApplied < ENTRANTS - UNITS - 1000,
    );
    expect(midLine.drawnAt).toBeUndefined();
    const commitment = midLine.seedCommitment;

    worker = await startWorker();
    const midWinners = await killWhen(worker, (r) => r.winApplied > 0 && r.winApplied < UNITS);
    expect(midWinners.drawnAt).toBeUndefined();
    expect(midWinners.winApplied).toBeLessThan(UNITS);

    worker = await startWorker();
    try {
      expect(
        await eventually(
          async () => (await sales.draws.find(dropId))?.drawnAt !== undefined,
          120_000,
        ),
      ).toBe(true);
    } finally {
      await worker.stop();
    }

    const record = (await steps.record(dropId))!;
    expect(record).toMatchObject({ seedCommitment: commitment, winApplied: UNITS });
    const published = (await sales.draws.find(dropId))!;
    expect(seedCommitment(published.seed!)).toBe(commitment);
    const order = shuffle(await sales.draws.allEntrants(dropId), published.seed!);
    expect(published.winners).toEqual(order.slice(0, UNITS));

    const sale = (await inventory.storedSale(dropId))!;
    const holds = sale.orders.filter((o) => allocationKindOf(o.id) === 'draw');
    expect(holds).toHaveLength(UNITS);
    for (const o of holds) expect(o.fanId).toBe(order[Number(o.id.slice(-15))]);
    expect(new Set(holds.map((o) => o.fanId)).size).toBe(UNITS);
    expect([...sale.unitsPerFan.values()].every((n) => n <= 1)).toBe(true);
    expect(sale.stock).toBe(0);
    expect(sale.allocated).toBe(UNITS);
    expect(await redis.zrange(dropKeys(dropId).waitlist, 0, -1)).toEqual(order.slice(UNITS));

    const types = (await redis.xrange(dropKeys(dropId).events, '-', '+')).map(([, f]) => {
      return f[f.indexOf(OutboxStreamFields.type) + 1];
    });
    expect(types.filter((x) => x === 'draw.won')).toHaveLength(UNITS);
    expect(types.filter((x) => x === 'draw.committed')).toHaveLength(1);
    expect(types.filter((x) => x === 'draw.completed')).toHaveLength(1);
  }, 400_000);
});
