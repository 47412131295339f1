import { runAudit } from '@flashdrop/audit';
import { FlashdropConfig, loadConfig } from '@flashdrop/config';
import { allocationKindOf, Inventory } from '@flashdrop/inventory';
import { LedgerFacts } from '@flashdrop/ledger';
import { connectRedis, RedisClient } from '@flashdrop/persistence';
import { SalesDatabase } from '@flashdrop/sales';
import {
  api,
  createDrop,
  dropKeys,
  eventually,
  fund,
  grabVia,
  moveHoldDeadline,
  openDropBody,
  OrderBody,
  pay,
  redisNow,
  soakRounds,
  testConfig,
  testDatabase,
  testProfileEnv,
  tokenFor,
  uniqueId,
} from '@flashdrop/testing';
import { DataSource } from 'typeorm';

/** `npm run test:soak` runs SOAK_ROUNDS (20); `npm test` a few. */
const RUNS = process.env.SOAK_ROUNDS ? soakRounds() : 3;
const UNITS = 30;
const PRICE = 1_000;

/**
 * Backfill races through the running stack (API.md "Fair launch", DESIGN.md invariant 8): on a
 * sold-out drop, holds expire (the sweeper), are cancelled and are paid while fans join the
 * waitlist, and the holds passed down to them are themselves paid, cancelled or left to expire,
 * all at once. After each run every unit is held, paid or back in stock exactly once, each fan
 * within their limit, every backfill came from a released unit, the allocation log and the
 * orders agree, and the audit (invariants 1-5 and 8) is clean.
 */
describe(`backfill races (${RUNS} runs, ${UNITS} units each)`, () => {
  let redis: RedisClient;
  let inventory: Inventory;
  let db: DataSource;
  let sales: SalesDatabase;

  beforeAll(async () => {
    redis = connectRedis(testConfig());
    inventory = new Inventory(redis);
    db = await testDatabase();
    sales = SalesDatabase.pool(loadConfig(FlashdropConfig, testProfileEnv()), {
      applicationName: 'backfill-race-test',
      poolSize: 2,
    });
    await sales.open();
  });
  afterAll(async () => {
    await sales.close();
    await db.destroy();
    await redis.quit();
  });

  interface Fan {
    id: string;
    token: string;
  }
  const newFans = (n: number): Fan[] =>
    Array.from({ length: n }, () => {
      const id = uniqueId('fan');
      return { id, token: tokenFor('fan', id) };
    });

  async function oneRun(run: number): Promise<string> {
    const drop = await createDrop(
      openDropBody({ quantity: UNITS, priceMinor: PRICE, holdSeconds: 30, title: `race ${run}` }),
    );
    const holders = newFans(UNITS);
    const queuers = newFans(2 * UNITS);
    await fund(
      [...holders, ...queuers].map((f) => f.id),
      2 * PRICE,
    );
    const grabs = await Promise.all(holders.map((f) => grabVia(drop.id, f.token)));
    expect(grabs.every((g) => g.status === 201)).toBe(true);
    const holds = grabs.map((g) => g.body);
    const now = await redisNow(redis);

    // All at once: a third of the holds expire (deadline moved into the past: the sweeper takes
    // them), a third are cancelled, a third paid, while more fans queue; each fan a hold passes
    // to pays, cancels or lets it lapse as it arrives.
    const byFan = new Map(queuers.map((f) => [f.id, f]));
    const settled = new Set<string>();
    const settle = async (o: OrderBody, i: number) => {
      if (settled.has(o.id)) return;
      settled.add(o.id);
      const fan = byFan.get(o.fanId)!;
      if (i % 3 === 0) await pay(o.id, fan.id);
      else if (i % 3 === 1) {
        await api('POST', `/v1/orders/${o.id}/cancel`, { token: fan.token });
      } else await moveHoldDeadline(redis, o.id, (await redisNow(redis)) - 1);
    };
    let watching = true;
    const watch = (async () => {
      let i = 0;
      while (watching) {
        const standings = await Promise.all(
          queuers.map((f) =>
            api<{ orders: OrderBody[] }>('GET', `/v1/drops/${drop.id}/me`, { token: f.token }),
          ),
        );
        const arrived = standings.flatMap((s) => s.body.orders.filter((o) => o.status === 'held'));
        await Promise.all(arrived.map((o) => settle(o, i++)));
        await new Promise((r) => setTimeout(r, 50));
      }
    })();
    // Half the line is there before the first release; the other half joins during them.
    const join = (f: Fan) => api('POST', `/v1/drops/${drop.id}/waitlist`, { token: f.token });
    await Promise.all(queuers.slice(0, UNITS).map(join));
    await Promise.all([
      ...queuers.slice(UNITS).map(join),
      ...holds.slice(0, 10).map((o) => moveHoldDeadline(redis, o.id, now - 1)),
      ...holds
        .slice(10, 20)
        .map((o, i) => api('POST', `/v1/orders/${o.id}/cancel`, { token: holders[10 + i].token })),
      ...holds.slice(20).map((o, i) => pay(o.id, holders[20 + i].id)),
    ]);
    // Done once three looks in a row find nothing moving: every hold passed down was settled
    // by its fan, no deadline is due, nothing was handed out since.
    let quiet = 0;
    let lastAllocated = -1;
    const settledDown = await eventually(
      async () => {
        const sale = (await inventory.storedSale(drop.id))!;
        const unsettled = sale.orders.filter(
          (o) => o.status === 'held' && allocationKindOf(o.id) === 'backfill' && !settled.has(o.id),
        );
        const due = await redis.zcount(dropKeys(drop.id).holds, '-inf', await redisNow(redis));
        const still = unsettled.length === 0 && due === 0 && sale.allocated === lastAllocated;
        lastAllocated = sale.allocated;
        quiet = still ? quiet + 1 : 0;
        return quiet >= 3;
      },
      90_000,
      300,
    );
    watching = false;
    await watch;
    expect(settledDown).toBe(true);

    const sale = (await inventory.storedSale(drop.id))!;
    const counted = sale.orders.filter((o) => ['held', 'paying', 'paid'].includes(o.status));
    const units = counted.reduce((n, o) => n + o.quantity, 0);
    expect(units + sale.stock + sale.parked).toBe(UNITS);
    const backfills = sale.orders.filter((o) => allocationKindOf(o.id) === 'backfill');
    expect(backfills.length).toBeGreaterThan(0);
    // Each released unit was passed down at most once.
    const from = backfills.map((o) => o.fromOrderId);
    expect(new Set(from).size).toBe(from.length);
    const audit = await runAudit(inventory, new LedgerFacts(db), [drop.id], { records: sales });
    expect(audit.breaches).toEqual([]);
    const n = (status: string) => sale.orders.filter((o) => o.status === status).length;
    return (
      `run ${run}: ${backfills.length} backfills, ${n('paid')} paid, ${n('held')} held, ` +
      `${n('expired')} expired, ${n('cancelled')} cancelled, ${sale.stock} back in stock, ` +
      `${(await inventory.counters(drop.id)).waitlisted} still in line`
    );
  }

  it.each(Array.from({ length: RUNS }, (_, i) => [i + 1]))(
    'run %i: every unit ends held, paid or in stock once; log, orders and audit agree',
    async (run) => {
      console.log(await oneRun(run));
    },
    180_000,
  );
});
