import { Client } from 'pg';
import { DataSource } from 'typeorm';
import { Topics } from '@flashdrop/events';
import {
  eventually,
  fanIds,
  killMidLoad,
  OwnServices,
  phasesLine,
  RequestLoad,
  roundNumbers,
  slotPort,
  TailedEvent,
  TopicTail,
  uniqueId,
} from '@flashdrop/testing';
import { WalletClient } from '@flashdrop/wallet-client';

const CONCURRENCY = 30;
const ACKS_BEFORE = 200;
const ACKS_AFTER = 100;

/**
 * Crash safety of the wallet's events: a worker of the test's own relays `wallet.outbox` (a
 * database of the test's own, written by a wallet of its own) to topics of its own while
 * credits keep coming. It is killed with `kill -9` in the middle of a batch: the batch is on
 * Kafka and its rows not yet marked published (this test holds a row lock the marking waits
 * on; the worker's blocked statement dies with it, as PostgreSQL's client check would end it).
 * The kill falls in the middle of the traffic (credits acknowledged before it, in flight at
 * it, acknowledged after the restart); afterwards every row is published, every credit's
 * `wallet.credited` is on Kafka, and a copy is there only under the row's own event id, which
 * is what consumers dedupe by.
 */
describe('the wallet outbox relay killed mid-batch (dedicated worker, wallet and database)', () => {
  // Ports 37x1-37x8 and 67x1-67x3 (x = slot) are the crash tests' own: no other base is within
  // 90 of them with the same last digit, so base + 10 * slot meets no other server in any slot.
  const own = new OwnServices({
    run: ['wallet', 'worker'],
    ports: { wallet: slotPort(3707), worker: slotPort(3708) },
    redisPort: slotPort(6703),
    database: { fresh: 'outbox_crash', schemas: ['wallet'] },
    topics: 'ocrash',
    tails: [Topics.wallet],
    env: { RELAYS: 'wallet-outbox' },
  });
  let client: WalletClient;
  let db: DataSource;
  let databaseUrl: string;
  let walletTopic: TopicTail;

  beforeAll(async () => {
    await own.start();
    ({ db, databaseUrl } = own);
    client = own.walletClient(5000);
    walletTopic = own.tail(Topics.wallet);
  }, 120_000);

  afterAll(() => own.stop(), 30_000);

  const countOf = async (sql: string, params: unknown[] = []) =>
    ((await db.query(sql, params)) as { n: number }[])[0].n;

  it.each(roundNumbers(1))(
    'kill -9 mid-batch: every wallet event reaches Kafka, a copy only under the same id (round %i)',
    async () => {
      const fans = fanIds(20);
      const run = uniqueId('credit');
      const load = new RequestLoad<string>(async (n) => {
        const reference = `${run}-${n}`;
        const reply = await client.credit({
          fanId: fans[n % fans.length],
          amountMinor: 1 + (n % 50),
          currency: 'CNY',
          reference,
        });
        return reply.created ? reference : undefined;
      }, CONCURRENCY);

      const locker = new Client({ connectionString: databaseUrl });
      await locker.connect();
      let locked = false;
      let blocked: number[] = [];
      let rowsInFlight = 0;
      const phases = await killMidLoad(
        load,
        async () => {
          own.kill9('worker');
          // Its blocked UPDATE dies with it (else it would commit once the lock is gone).
          for (const pid of blocked) await db.query('SELECT pg_terminate_backend($1)', [pid]);
          await locker.query('ROLLBACK');
        },
        async () => {
          await own.restart('worker');
        },
        {
          ackBefore: ACKS_BEFORE,
          ackAfter: ACKS_AFTER,
          // Relaying under way (rows already published), then the oldest unpublished row locked
          // and the relay's marking of its batch, sent to Kafka already, waiting on it.
          ready: async () => {
            if (!locked) {
              const published = await countOf(
                'SELECT count(*)::int AS n FROM wallet.outbox WHERE published_at IS NOT NULL',
              );
              if (published === 0) return false;
              await locker.query('BEGIN');
              const row = await locker.query(
                `SELECT id FROM wallet.outbox WHERE published_at IS NULL
                  ORDER BY id LIMIT 1 FOR UPDATE`,
              );
              if (row.rowCount === 0) {
                await locker.query('ROLLBACK');
                return false;
              }
              locked = true;
            }
            // Read from the pool: pg_stat_activity is one snapshot per transaction.
            const waiting: { pid: number; query: string }[] = await db.query(
              `SELECT pid, query FROM pg_stat_activity
                WHERE datname = current_database() AND wait_event_type = 'Lock'
                  AND query ILIKE 'UPDATE wallet.outbox%'`,
            );
            blocked = waiting.map((w) => w.pid);
            if (blocked.length === 0) return false;
            rowsInFlight = await countOf(
              'SELECT count(*)::int AS n FROM wallet.outbox WHERE published_at IS NULL',
            );
            return true;
          },
          timeoutMs: 60_000,
        },
      );
      await locker.end();
      expect(blocked.length).toBeGreaterThan(0);
      const acked = new Set(load.acknowledged);
      expect(acked.size).toBe(load.acknowledged.length);

      // Every row published again, and every one on Kafka under its own event id.
      expect(
        await eventually(
          async () =>
            (await countOf(
              'SELECT count(*)::int AS n FROM wallet.outbox WHERE published_at IS NULL',
            )) === 0,
          60_000,
          250,
        ),
      ).toBe(true);
      const rows: { event_id: string; reference: string }[] = await db.query(
        `SELECT event_id, data->>'reference' AS reference FROM wallet.outbox
          WHERE type = 'wallet.credited' AND data->>'reference' LIKE $1`,
        [`${run}-%`],
      );
      const idOf = new Map(rows.map((r) => [r.reference, r.event_id]));
      // Every acknowledged credit has its row (it committed with the credit).
      expect([...acked].filter((ref) => !idOf.has(ref))).toEqual([]);
      const onKafka = () => {
        const byReference = new Map<string, string[]>();
        for (const e of walletTopic.values<TailedEvent>()) {
          const ref = e.data.reference;
          if (e.type !== 'wallet.credited' || typeof ref !== 'string' || !idOf.has(ref)) continue;
          byReference.set(ref, [...(byReference.get(ref) ?? []), e.id]);
        }
        return byReference;
      };
      expect(
        await eventually(async () => rows.every((r) => onKafka().has(r.reference)), 30_000, 250),
      ).toBe(true);
      const byReference = onKafka();
      expect(rows.filter((r) => !byReference.has(r.reference)).map((r) => r.reference)).toEqual([]);
      // A copy only under the row's own event id; and the batch the kill cut did go twice.
      const foreign = [...byReference].filter(([ref, ids]) =>
        ids.some((id) => id !== idOf.get(ref)),
      );
      expect(foreign.map(([ref, ids]) => `${ref}: ${ids.join(',')}`)).toEqual([]);
      const copies = [...byReference.values()].reduce((n, ids) => n + ids.length - 1, 0);
      expect(copies).toBeGreaterThan(0);
      console.log(
        `wallet outbox relay kill -9: ${phasesLine(phases)}; ${rowsInFlight} rows unpublished ` +
          `at the kill, the cut batch on Kafka already; ${rows.length} credited events, ` +
          `${copies} sent again under their own id`,
      );
    },
    150_000,
  );
});
