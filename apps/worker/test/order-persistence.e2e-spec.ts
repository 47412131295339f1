import { OutboxStreamGroups } from '@flashdrop/inventory';
import {
  closeStackConnections,
  createDrop,
  dropKeys,
  eventually,
  grabVia,
  openDropBody,
  openStackConnections,
  StackConnections,
  testConfig,
  tokenFor,
  uniqueId,
} from '@flashdrop/testing';
import { Client } from 'pg';

const GROUP = OutboxStreamGroups.orderPersistence;

/**
 * Order persistence after a failed upsert (issue 11): the stack's worker copies orders into
 * `sales.orders`; here one of its batches fails for real (the table is locked by this test and
 * the worker's blocked INSERT is terminated, as a PostgreSQL restart or failover would). Before
 * the fix the failed batch stayed pending in the consumer group and was never read again, so
 * those orders never reached PostgreSQL and the drop's stream was never trimmed again.
 */
describe('order persistence retries a failed batch (running stack)', () => {
  let c: StackConnections;
  let locker: Client;
  let lockerPid: number;

  beforeAll(async () => {
    c = await openStackConnections();
    locker = new Client({ connectionString: testConfig().DATABASE_URL });
    await locker.connect();
    lockerPid = (await locker.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0].pid;
  });
  afterAll(async () => {
    await locker.query('ROLLBACK').catch(() => undefined);
    await locker.end();
    await closeStackConnections(c);
  });

  async function storedCount(orderIds: readonly string[]): Promise<number> {
    const rows = (await c.db.query(
      'SELECT count(*)::int AS n FROM sales.orders WHERE id = ANY($1)',
      [orderIds],
    )) as { n: number }[];
    return rows[0].n;
  }

  async function pendingOf(stream: string): Promise<number> {
    const summary = (await c.redis.xpending(stream, GROUP)) as [number, ...unknown[]];
    return Number(summary[0]);
  }

  /**
   * The worker's upsert that waits on this test's lock, once it does. Read on a connection
   * outside the locking transaction: PostgreSQL takes one snapshot of pg_stat_activity per
   * transaction, so polls from inside it would see the first answer for good (a poll before
   * the worker blocked never saw it block: the failure seen in clean-clone runs).
   */
  async function blockedUpsert(): Promise<number | undefined> {
    const rows = (await c.db.query(
      `SELECT pid FROM pg_stat_activity
        WHERE datname = current_database() AND pid <> $1
          AND wait_event_type = 'Lock' AND query ILIKE 'INSERT INTO sales.orders%'`,
      [lockerPid],
    )) as { pid: number }[];
    return rows[0]?.pid;
  }

  it('a batch that failed is read again until it lands; nothing stays pending; trimming resumes', async () => {
    const drop = await createDrop(openDropBody({ quantity: 100, perUserLimit: 1 }));
    const stream = dropKeys(drop.id).events;
    const grabOnce = async () => {
      const r = await grabVia(drop.id, tokenFor('fan', uniqueId('fan')));
      expect(r.status).toBe(201);
      return r.body.id;
    };

    await locker.query('BEGIN');
    await locker.query('LOCK TABLE sales.orders IN EXCLUSIVE MODE');
    const first: string[] = [];
    for (let i = 0; i < 20; i++) first.push(await grabOnce());
    let pid: number | undefined;
    // Up to 30 s: after another test's kill -9 of a worker, the persister's lease (5 s) must
    // lapse before the stack's worker persists again.
    expect(
      await eventually(async () => (pid = await blockedUpsert()) !== undefined, 30_000, 50),
    ).toBe(true);
    // The batch fails: its connection is terminated mid-statement.
    await locker.query('SELECT pg_terminate_backend($1)', [pid]);
    await locker.query('COMMIT');
    expect(await pendingOf(stream)).toBeGreaterThan(0);

    const later: string[] = [];
    for (let i = 0; i < 5; i++) later.push(await grabOnce());

    const all = [...first, ...later];
    expect(await eventually(async () => (await storedCount(all)) === all.length, 20_000)).toBe(
      true,
    );
    expect(await eventually(async () => (await pendingOf(stream)) === 0, 10_000)).toBe(true);
    // Trimming resumes: every entry the failed batch held back is acknowledged by every group,
    // so the relay's trimmer (every 5 s) deletes them.
    expect(await c.redis.xlen(stream)).toBeGreaterThan(0);
    expect(await eventually(async () => (await c.redis.xlen(stream)) === 0, 20_000, 250)).toBe(
      true,
    );
  }, 90_000);
});
