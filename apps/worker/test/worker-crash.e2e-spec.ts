import { Client } from 'pg';
import { DataSource } from 'typeorm';
import { auditSales } from '@flashdrop/audit';
import { Topics } from '@flashdrop/events';
import { Inventory, InventoryOrder, OutboxStreamGroups } from '@flashdrop/inventory';
import { RedisClient } from '@flashdrop/persistence';
import {
  dropDefinition,
  dropKeys,
  eventually,
  killMidLoad,
  OwnServices,
  phasesLine,
  redisNow,
  RequestLoad,
  roundNumbers,
  slotPort,
  TailedEvent,
  TopicTail,
  uniqueId,
} from '@flashdrop/testing';

const CONCURRENCY = 20;
const ACKS_BEFORE = 300;
const ACKS_AFTER = 200;
const QUANTITY = 1_000_000;
const PERSISTENCE = OutboxStreamGroups.orderPersistence;

/**
 * Crash safety of the worker's sale work: a worker of the test's own (its own Redis, database
 * and Kafka topics) sweeps holds of one second and copies orders into `sales.orders` while
 * grabs keep coming; it is killed with `kill -9` while holds are due and while a batch of
 * orders is half-way into PostgreSQL (this test holds the drop's write lock, so the batch is
 * read from the stream and not committed at the kill, for sure), then restarted. The kill
 * falls in the middle (grabs acknowledged before it, in flight at it, acknowledged after the
 * restart); afterwards every hold is expired once (its unit back once, the audit clean), every
 * order reaches `sales.orders` once with its final status, every order's events reach Kafka
 * (a copy only with the same id), and the outbox stream is trimmed to nothing again.
 */
describe('the worker killed while sweeping and persisting orders (dedicated worker)', () => {
  // Ports 37x1-37x8 and 67x1-67x3 (x = slot) are the crash tests' own: no other base is within
  // 90 of them with the same last digit, so base + 10 * slot meets no other server in any slot.
  const own = new OwnServices({
    run: ['worker'],
    // No wallet: nothing here pays, the payment recovery finds nothing to settle.
    ports: { worker: slotPort(3705), wallet: slotPort(3706) },
    redisPort: slotPort(6702),
    database: { fresh: 'worker_crash', schemas: ['sales'] },
    // The worker's topics under a prefix of the test's own: its events reach no stack consumer.
    topics: 'wcrash',
    tails: [Topics.sales],
    env: { RELAYS: 'streams' },
    redisOptions: { maxRetriesPerRequest: 20 },
  });
  let redis: RedisClient;
  let inventory: Inventory;
  let db: DataSource;
  let databaseUrl: string;
  let sales: TopicTail;

  beforeAll(async () => {
    await own.start();
    ({ redis, db, databaseUrl } = own);
    inventory = new Inventory(redis);
    sales = own.tail(Topics.sales);
  }, 120_000);

  afterAll(() => own.stop(), 30_000);

  async function pendingOf(stream: string): Promise<number> {
    const summary = (await redis.xpending(stream, PERSISTENCE).catch(() => [0])) as [number];
    return Number(summary[0]);
  }

  async function storedStatuses(dropId: string): Promise<Map<string, string>> {
    const rows: { id: string; status: string }[] = await db.query(
      'SELECT id, status FROM sales.orders WHERE drop_id = $1',
      [dropId],
    );
    return new Map(rows.map((r) => [r.id, r.status]));
  }

  // One round in npm test; SOAK_ROUNDS of them under npm run test:soak.
  it.each(roundNumbers(1))(
    'kill -9 mid-sweep and mid-persist: no hold lost or doubled, every order stored once, the stream trimmed again (round %i)',
    async () => {
      const drop = dropDefinition(await redisNow(redis), {
        quantity: QUANTITY,
        reservationRequired: false,
        reservationOpensAt: undefined,
        reservationClosesAt: undefined,
        holdSeconds: 1,
      });
      await inventory.createDrop(drop);
      const k = dropKeys(drop.id);
      const load = new RequestLoad<InventoryOrder>(async () => {
        const grabbed = await inventory.grab({
          dropId: drop.id,
          fanId: uniqueId('fan'),
          quantity: 1,
        });
        return grabbed.ok ? grabbed.order : undefined;
      }, CONCURRENCY);

      // The drop's write lock in sales.orders, held by this test from just before the kill: the
      // worker's next batch is read from the stream (pending) and blocks on it, uncommitted.
      const locker = new Client({ connectionString: databaseUrl });
      await locker.connect();
      let locked = false;
      let dueAtKill = 0;
      let dueAtRestart = 0;
      let pendingAtKill = 0;
      const phases = await killMidLoad(
        load,
        async () => {
          pendingAtKill = await pendingOf(k.events);
          dueAtKill = await redis.zcount(k.holds, '-inf', await redisNow(redis));
          own.kill9('worker');
          // The blocked batch dies with the worker's connection: released, it commits nothing.
          await locker.query('ROLLBACK');
        },
        async () => {
          // Holds come due while no worker runs (one-second holds, grabs going on): the new
          // worker's sweeper must return each once.
          await eventually(
            async () => {
              dueAtRestart = await redis.zcount(k.holds, '-inf', await redisNow(redis));
              return dueAtRestart > 0;
            },
            10_000,
            20,
          );
          await own.restart('worker');
        },
        {
          ackBefore: ACKS_BEFORE,
          ackAfter: ACKS_AFTER,
          // Sweeping and persisting under way: units already returned, orders already stored;
          // then the lock taken and a batch of the worker's waiting on it.
          ready: async () => {
            const expired = Number(await redis.hget(k.stats, 'expired'));
            if (!locked) {
              if (expired === 0 || (await storedStatuses(drop.id)).size === 0) return false;
              await locker.query('BEGIN');
              await locker.query(
                `SELECT pg_advisory_xact_lock(hashtextextended('sales.orders:' || $1::text, 0))`,
                [drop.id],
              );
              locked = true;
            }
            // Read outside the locking transaction: pg_stat_activity is one snapshot per
            // transaction, so the locker itself would never see the worker start waiting.
            const waiting: { n: number }[] = await db.query(
              `SELECT count(*)::int AS n FROM pg_stat_activity
              WHERE datname = current_database() AND wait_event_type = 'Lock'`,
            );
            return waiting[0].n > 0 && (await pendingOf(k.events)) > 0;
          },
          timeoutMs: 60_000,
        },
      );
      await locker.end();
      // Killed while a batch of orders was read and not stored; holds came due while it was down.
      expect(dueAtRestart).toBeGreaterThan(0);
      expect(pendingAtKill).toBeGreaterThan(0);
      const acked = load.acknowledged;
      expect(new Set(acked.map((o) => o.id)).size).toBe(acked.length);

      // The restarted worker finishes the job: every hold swept, every order stored as final,
      // nothing left pending, the stream trimmed to nothing.
      const done = await eventually(
        async () => {
          if ((await redis.zcard(k.holds)) > 0 || (await pendingOf(k.events)) > 0) return false;
          const stored = await storedStatuses(drop.id);
          return (
            acked.every((o) => stored.get(o.id) === 'expired') && (await redis.xlen(k.events)) === 0
          );
        },
        60_000,
        500,
      );
      const stored = await storedStatuses(drop.id);
      const unstored = acked.filter((o) => stored.get(o.id) !== 'expired');
      expect(unstored.map((o) => `${o.id}: ${stored.get(o.id)}`)).toEqual([]);
      expect(await redis.xlen(k.events)).toBe(0);
      expect(done).toBe(true);

      // No hold lost or doubled: every acknowledged order expired, its unit back once.
      const orders = await Promise.all(acked.map((o) => inventory.getOrder(o.id)));
      expect(acked.filter((o, i) => orders[i]?.status !== 'expired').map((o) => o.id)).toEqual([]);
      expect(Number(await redis.get(k.stock))).toBe(QUANTITY);
      expect(stored.size).toBe(acked.length);
      expect(Number(await redis.hget(k.stats, 'expired'))).toBe(acked.length);
      expect((await auditSales(inventory, [drop.id])).breaches).toEqual([]);

      // Every order's grab and expiry reached Kafka; a copy only with the same event id.
      const ofOrder = new Map<string, Set<string>>();
      const idsOf = new Map<string, Set<string>>();
      expect(
        await eventually(
          async () => {
            ofOrder.clear();
            idsOf.clear();
            for (const e of sales.values<TailedEvent>()) {
              const orderId = e.data.orderId;
              if (typeof orderId !== 'string' || !orderId.startsWith(drop.id)) continue;
              const key = `${e.type}:${orderId}`;
              idsOf.set(key, (idsOf.get(key) ?? new Set()).add(e.id));
              ofOrder.set(orderId, (ofOrder.get(orderId) ?? new Set()).add(e.type));
            }
            return acked.every((o) => ofOrder.get(o.id)?.size === 2);
          },
          30_000,
          500,
        ),
      ).toBe(true);
      expect([...idsOf].filter(([, ids]) => ids.size !== 1).map(([key]) => key)).toEqual([]);
      console.log(
        `worker kill -9: ${phasesLine(phases)}; ${dueAtKill} holds due and ${pendingAtKill} ` +
          `stream entries read but not stored at the kill, ${dueAtRestart} due at the restart; ${acked.length} orders expired and stored once; ` +
          `${sales.messages.length} messages on the sales topic`,
      );
    },
    180_000,
  );
});
