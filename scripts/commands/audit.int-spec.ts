import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { DataSource } from 'typeorm';
import { FlashdropConfig, loadConfig } from '@flashdrop/config';
import { allocationHash, AllocationEntry, GENESIS_HASH } from '@flashdrop/fair';
import { DropDefinition, handedOutBy, Inventory, InventoryOrder } from '@flashdrop/inventory';
import { LedgerRepository, migrateWallet } from '@flashdrop/ledger';
import { RedisClient } from '@flashdrop/persistence';
import { AllocationRecords, migrateSales } from '@flashdrop/sales';
import {
  dedicatedSaleRedis,
  dropDefinition,
  dropKeys,
  fanIds,
  freshDatabase,
  redisNow,
  REPO_ROOT,
  slotPort,
  testDatabase,
  testProfileEnv,
  uniqueId,
} from '@flashdrop/testing';

const run = promisify(execFile);
const PRICE = 1_999;

interface AuditRun {
  readonly code: number;
  readonly breaches: string[];
  readonly summary: string;
}

/**
 * `npm run audit` itself (the bundle npm test runs last, dist/scripts/cli.js): for each
 * invariant, one breach written into a scratch drop (an oversold unit, a fan over its limit, an
 * unreserved buyer, an unbalanced transfer, a double debit, a paid order released) must be
 * named, with exit code 1, and a clean drop must pass with 0. Every "audit clean" of the suite
 * leans on this. The breaches live on a Redis and in a database of this file's own, so they
 * never reach the audit npm test runs over what the tests left behind. Under npm run
 * test:cluster that Redis is a cluster of six of this file's own, so the command is shown to
 * find every drop's keys on a cluster too.
 */
describe('npm run audit names each breach and exits 1', () => {
  // Each case runs the command (a process of its own: a few seconds on a loaded box) once or twice.
  jest.setTimeout(60_000);
  const redisServer = dedicatedSaleRedis(slotPort(6390), slotPort(8300));
  let databaseUrl: string;
  let redis: RedisClient;
  let db: DataSource;
  let inventory: Inventory;
  let ledger: LedgerRepository;
  const scratchDrops: string[] = [];

  beforeAll(async () => {
    redisServer.start();
    await redisServer.flush();
    redis = redisServer.connect();
    inventory = new Inventory(redis);
    databaseUrl = await freshDatabase('audit');
    // The sales schema too: the audit reads the allocation logs and the draws from it.
    const config = loadConfig(FlashdropConfig, { ...testProfileEnv(), DATABASE_URL: databaseUrl });
    await migrateWallet(config);
    await migrateSales(config);
    db = await testDatabase(databaseUrl);
    ledger = new LedgerRepository(db);
  }, 60_000);

  afterAll(async () => {
    await db?.destroy();
    redis?.disconnect();
    redisServer.stop();
  });

  /**
   * What the worker's allocation log writer does on a stack: each scratch drop's log, chained
   * from its outbox stream (the same chain every time; a stored entry is left as it is).
   */
  async function chainAllocationLogs(): Promise<void> {
    const records = new AllocationRecords(db);
    for (const dropId of scratchDrops) {
      const stream = await redis.xrange(dropKeys(dropId).events, '-', '+');
      let previous = GENESIS_HASH;
      const log: AllocationEntry[] = [];
      for (const [id, flat] of stream) {
        const fields: Record<string, string> = {};
        for (let i = 0; i < flat.length; i += 2) fields[flat[i]] = flat[i + 1];
        const handed = handedOutBy({ id, fields });
        if (!handed) continue;
        previous = allocationHash(previous, handed);
        log.push({ ...handed, hash: previous });
      }
      await records.append(dropId, log);
    }
  }

  /** The command as a user runs it, against the scratch servers: its exit code and report. */
  async function audit(dropId?: string): Promise<AuditRun> {
    await chainAllocationLogs();
    const args = [join(REPO_ROOT, 'dist/scripts/cli.js'), 'audit'];
    if (dropId) args.push(`--drop=${dropId}`);
    const env = {
      ...process.env,
      ...testProfileEnv(),
      // Never the slot's own Redis or cluster (testProfileEnv): the audit reads every drop there.
      ...redisServer.processEnv(),
      DATABASE_URL: databaseUrl,
    };
    const { code, stdout } = await run(process.execPath, args, { env }).then(
      (r) => ({ code: 0, stdout: r.stdout }),
      (e: { code?: number; stdout?: string }) => ({ code: e.code ?? -1, stdout: e.stdout ?? '' }),
    );
    const lines = stdout.split('\n');
    return {
      code,
      breaches: lines.filter((l) => l.startsWith('BREACH')),
      summary: lines.find((l) => l.startsWith('audit: ')) ?? '',
    };
  }

  async function scratchDrop(overrides: Partial<DropDefinition> = {}): Promise<DropDefinition> {
    const drop = dropDefinition(await redisNow(redis), {
      brandId: uniqueId('brand'),
      reservationRequired: false,
      reservationOpensAt: undefined,
      reservationClosesAt: undefined,
      priceMinor: PRICE,
      ...overrides,
    });
    await inventory.createDrop(drop);
    scratchDrops.push(drop.id);
    return drop;
  }

  async function grab(dropId: string, fanId: string): Promise<InventoryOrder> {
    const g = await inventory.grab({ dropId, fanId, quantity: 1 });
    if (!g.ok) throw new Error(`grab refused: ${JSON.stringify(g)}`);
    const order = await inventory.getOrder(g.order.id);
    if (!order) throw new Error('the order is gone');
    return order;
  }

  /** Pays an order the way the API does: begin, debit (funded first), complete. */
  async function pay(drop: DropDefinition, order: InventoryOrder, funds = PRICE): Promise<void> {
    await ledger.credit({
      fanId: order.fanId,
      amountMinor: funds,
      currency: 'CNY',
      reference: uniqueId('topup'),
    });
    const begun = await inventory.beginPayment(order.id, { payingTtlMs: 60_000 });
    if (!begun.ok || begun.value.payingUntil === undefined) throw new Error('not begun');
    const debit = await ledger.debit({
      orderId: order.id,
      attempt: begun.value.payingUntil,
      fanId: order.fanId,
      dropId: drop.id,
      brandId: drop.brandId,
      amountMinor: order.amountMinor,
      currency: 'CNY',
    });
    expect(debit.outcome).toBe('debited');
    expect((await inventory.completePayment(order.id)).ok).toBe(true);
  }

  it('passes a clean sale (one order paid, one held) with exit code 0', async () => {
    const drop = await scratchDrop();
    const [a, b] = fanIds(2);
    await pay(drop, await grab(drop.id, a));
    await grab(drop.id, b);
    const report = await audit();
    expect(report.breaches).toEqual([]);
    expect(report.summary).toMatch(/: 0 breaches$/);
    expect(report.code).toBe(0);
  });

  it('invariant 1: an oversold unit', async () => {
    const drop = await scratchDrop({ quantity: 2 });
    const [a, b, c] = fanIds(3);
    await grab(drop.id, a);
    await grab(drop.id, b);
    // One unit more than the drop has: put one back in stock that no order returned, grab it.
    await redis.incr(dropKeys(drop.id).stock);
    await grab(drop.id, c);
    const report = await audit(drop.id);
    expect(report.breaches).toEqual([
      `BREACH invariant 1 (no oversell): drop ${drop.id}: held+paid 3 > 2`,
      `BREACH invariant 1 (no oversell): drop ${drop.id}: stock 0 != quantity 2 - held+paid 3`,
    ]);
    expect(report.code).toBe(1);
  });

  it('invariant 2: a fan over the limit', async () => {
    const drop = await scratchDrop({ perUserLimit: 1 });
    const [fan] = fanIds(1);
    await grab(drop.id, fan);
    // The fan's counter forgets the first unit, so the limit lets a second one through.
    await redis.hset(dropKeys(drop.id).fans, fan, 0);
    await grab(drop.id, fan);
    const report = await audit(drop.id);
    expect(report.breaches).toEqual([
      `BREACH invariant 2 (per-fan limit): drop ${drop.id}: fan ${fan} has 2 > 1`,
      `BREACH invariant 2 (per-fan limit): drop ${drop.id}: fan ${fan}: counter 1 != held+paid 2`,
    ]);
    expect(report.code).toBe(1);
  });

  it('invariant 3: an unreserved buyer', async () => {
    const now = await redisNow(redis);
    const drop = await scratchDrop({
      reservationRequired: true,
      reservationOpensAt: now - 60_000,
      reservationClosesAt: now + 3_600_000,
    });
    const [fan] = fanIds(1);
    expect((await inventory.reserve(drop.id, fan)).ok).toBe(true);
    await grab(drop.id, fan);
    // The reservation the grab checked is gone: the order's fan never reserved.
    await redis.hdel(dropKeys(drop.id).reservations, fan);
    const report = await audit(drop.id);
    expect(report.breaches).toEqual([
      `BREACH invariant 3 (eligibility): drop ${drop.id}: fan ${fan} has orders, no reservation`,
    ]);
    expect(report.code).toBe(1);
  });

  it('invariant 4: an unbalanced transfer', async () => {
    // The ledger's checks are global; --drop of an empty drop keeps the other cases' out.
    const quiet = await scratchDrop();
    const [fan] = fanIds(1);
    const credit = await ledger.credit({
      fanId: fan,
      amountMinor: 500,
      currency: 'CNY',
      reference: uniqueId('topup'),
    });
    expect(credit.balanceMinor).toBe(500);
    const [{ transfer_id: transferId, account_id: accountId }] = await db.query(
      `SELECT e.transfer_id, e.account_id FROM wallet.entries e
       JOIN wallet.accounts a ON a.id = e.account_id
       WHERE a.kind = 'fan' AND a.owner_id = $1`,
      [fan],
    );
    // One more cent for the fan inside the credit's transfer, the balance kept to its entries:
    // money made from nothing, which only the transfer's own sum shows.
    await db.query(
      `INSERT INTO wallet.entries (transfer_id, account_id, amount_minor, balance_after_minor)
       VALUES ($1, $2, 1, 501)`,
      [transferId, accountId],
    );
    await db.query(`UPDATE wallet.accounts SET balance_minor = 501 WHERE id = $1`, [accountId]);
    try {
      const report = await audit(quiet.id);
      expect(report.breaches).toContain(
        `BREACH invariant 4 (money is conserved): transfer ${transferId}: not balanced: 3 entries summing to 1`,
      );
      expect(report.breaches.every((b) => b.startsWith('BREACH invariant 4'))).toBe(true);
      expect(report.code).toBe(1);
    } finally {
      // Put the cent back, so the cases after this one meet a clean ledger.
      await db.query(
        `DELETE FROM wallet.entries WHERE transfer_id = $1 AND account_id = $2 AND amount_minor = 1`,
        [transferId, accountId],
      );
      await db.query(`UPDATE wallet.accounts SET balance_minor = 500 WHERE id = $1`, [accountId]);
    }
    expect(await audit(quiet.id)).toMatchObject({ breaches: [], code: 0 });
  });

  it('invariant 5: a double debit', async () => {
    const drop = await scratchDrop();
    const [fan] = fanIds(1);
    const order = await grab(drop.id, fan);
    await pay(drop, order, 2 * PRICE);
    // The schema keeps one payment transfer per order; the audit is there for the day it does
    // not: this scratch database loses that index, and the order gets a second payment
    // transfer, balanced (its entries copied, the accounts moved with them).
    await db.query(`DROP INDEX wallet.transfers_payment_order`);
    const [{ id: again }] = await db.query(
      `INSERT INTO wallet.transfers (kind, fan_id, currency, amount_minor, order_id, drop_id)
       SELECT kind, fan_id, currency, amount_minor, order_id, drop_id FROM wallet.transfers
       WHERE kind = 'payment' AND order_id = $1 RETURNING id`,
      [order.id],
    );
    const entries: { account_id: string; amount_minor: string }[] = await db.query(
      `SELECT e.account_id, e.amount_minor FROM wallet.entries e
       JOIN wallet.transfers t ON t.id = e.transfer_id
       WHERE t.kind = 'payment' AND t.order_id = $1 AND t.id <> $2`,
      [order.id, again],
    );
    for (const e of entries) {
      await db.query(
        `UPDATE wallet.accounts SET balance_minor = balance_minor + $2 WHERE id = $1`,
        [e.account_id, e.amount_minor],
      );
      await db.query(
        `INSERT INTO wallet.entries (transfer_id, account_id, amount_minor, balance_after_minor)
         SELECT $1, id, $3, balance_minor FROM wallet.accounts WHERE id = $2`,
        [again, e.account_id, e.amount_minor],
      );
    }
    const report = await audit(drop.id);
    expect(report.breaches).toEqual([
      `BREACH invariant 5 (exactly once): order ${order.id}: debited 2 times`,
      `BREACH invariant 5 (exactly once): order ${order.id}: debited ${2 * PRICE}, the order costs ${PRICE}`,
    ]);
    expect(report.code).toBe(1);
  });

  it('invariant 5: a paid order released', async () => {
    const drop = await scratchDrop();
    const [fan] = fanIds(1);
    const order = await grab(drop.id, fan);
    await pay(drop, order);
    // Released as a lapsed hold is (its unit back in stock, the fan's count down), though paid.
    const k = dropKeys(drop.id);
    await redis
      .multi()
      .hset(k.order(order.id), 'status', 'expired')
      .incr(k.stock)
      .hincrby(k.fans, fan, -1)
      .exec();
    const report = await audit(drop.id);
    expect(report.breaches).toEqual([
      `BREACH invariant 5 (exactly once): order ${order.id}: debited but expired`,
    ]);
    expect(report.code).toBe(1);
  });

  it('invariant 8: an allocation log entry rewritten', async () => {
    const drop = await scratchDrop();
    const [a, b] = fanIds(2);
    const first = await grab(drop.id, a);
    await grab(drop.id, b);
    expect(await audit(drop.id)).toMatchObject({ breaches: [], code: 0 });
    // The first unit's entry now names another fan: its hash no longer fits, nor does its order.
    await db.query(
      `UPDATE sales.allocations SET fan_id = 'intruder' WHERE drop_id = $1 AND seq = 1`,
      [drop.id],
    );
    const report = await audit(drop.id);
    const prefix = `BREACH invariant 8 (fair allocation): drop ${drop.id}: `;
    expect(report.breaches).toEqual([
      expect.stringMatching(
        new RegExp(
          `^${escapeRegExp(prefix)}allocation log: entry 1: hash [0-9a-f]{64} != recomputed`,
        ),
      ),
      `${prefix}allocation 1 (grab, intruder x1) != order ${first.id}`,
    ]);
    expect(report.code).toBe(1);
  });
});

const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
