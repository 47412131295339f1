import { runAudit } from '@flashdrop/audit';
import { Inventory, InventoryOrder } from '@flashdrop/inventory';
import { LedgerFacts } from '@flashdrop/ledger';
import {
  dropDefinition,
  dropKeys,
  eventually,
  fanIds,
  moveGroupDeadline,
  OwnServices,
  redisNow,
  slotPort,
  transfersByOrder,
  uniqueId,
} from '@flashdrop/testing';
import { WalletClient } from '@flashdrop/wallet-client';

const GROUPS = 120;
const PRICE = 2_500;
/** The worker is killed once this many groups have ended (of GROUPS), mid-sweep. */
const KILL_AFTER_ENDED = 20;

/**
 * kill -9 of the WORKER while its GroupSweeper completes and fails groups (libs/inventory
 * README "Group buy"; apps/wallet/PAYMENTS.md "Group buy"). A worker, a wallet, a Redis, a
 * database and topics of the test's own, so no other sweeper touches these groups: half the
 * groups are left `completing` by a payer that died after the last member's payment (the
 * sweeper completes them: escrow -> revenue per member, then every member paid), half are one
 * member short at their deadline (the sweeper fails them: the paid member refunded from escrow,
 * the other's hold expired). The worker is killed mid-sweep and restarted; afterwards every
 * group is complete or failed exactly once (counted once in the sale's stats),
 * every member's money moved once, the escrow is empty and the audit clean.
 */
describe('group buy survives kill -9 of the worker (dedicated worker, wallet, Redis, database)', () => {
  // Bases ending in 0 that no other test uses within 90: base + 10 * slot meets nothing.
  const own = new OwnServices({
    run: ['wallet', 'worker'],
    ports: { wallet: slotPort(4300), worker: slotPort(3710) },
    redisPort: slotPort(6700),
    database: { fresh: 'group_worker_crash', schemas: ['sales', 'wallet'] },
    topics: 'gwcrash',
    env: { WALLET_TIMEOUT_MS: '3000' },
    redisOptions: { maxRetriesPerRequest: 20 },
  });
  let inventory: Inventory;
  let wallet: WalletClient;

  beforeAll(async () => {
    await own.start();
    inventory = new Inventory(own.redis);
    wallet = own.walletClient(5000);
  }, 120_000);

  afterAll(() => own.stop(), 30_000);

  /** A member's payment into escrow, as the API makes it (PaymentsService), without the end. */
  async function payIntoEscrow(o: InventoryOrder, brandId: string): Promise<void> {
    const begun = await inventory.beginPayment(o.id, { payingTtlMs: 60_000 });
    if (!begun.ok || begun.value.payingUntil === undefined) throw new Error('begin refused');
    const debit = await wallet.debit({
      orderId: o.id,
      attempt: begun.value.payingUntil,
      fanId: o.fanId,
      dropId: o.dropId,
      brandId,
      amountMinor: o.amountMinor,
      currency: 'CNY',
      escrow: true,
    });
    expect(debit.outcome).toBe('debited');
    const done = await inventory.completePayment(o.id);
    expect(done.ok && done.value.status).toBe('grouped');
  }

  it('every group completes or fails exactly once; each member’s money moved once; escrow empty; audit clean', async () => {
    const brandId = uniqueId('brand');
    const now = await redisNow(own.redis);
    const drop = dropDefinition(now, {
      brandId,
      quantity: 2 * GROUPS,
      priceMinor: PRICE,
      reservationRequired: false,
      reservationOpensAt: undefined,
      reservationClosesAt: undefined,
      groupSize: 2,
      groupSeconds: 3600,
    });
    await inventory.createDrop(drop);
    const fans = fanIds(2 * GROUPS);
    for (const fanId of fans) {
      await wallet.credit({ fanId, amountMinor: PRICE, currency: 'CNY', reference: uniqueId('t') });
    }
    const groups: { groupId: string; orders: InventoryOrder[] }[] = [];
    for (let i = 0; i < GROUPS; i++) {
      const first = await inventory.grab({ dropId: drop.id, fanId: fans[2 * i], quantity: 1 });
      if (!first.ok || !first.order.groupId) throw new Error('start refused');
      const groupId = first.order.groupId;
      const second = await inventory.grab({
        dropId: drop.id,
        fanId: fans[2 * i + 1],
        quantity: 1,
        groupId,
      });
      if (!second.ok) throw new Error(`join refused: ${second.code}`);
      groups.push({ groupId, orders: [first.order, second.order] });
    }
    // Half completing (both paid, the payer gone before the end), half one short at the deadline.
    const completing = groups.filter((_, i) => i % 2 === 0);
    const failing = groups.filter((_, i) => i % 2 === 1);
    for (const g of groups) await payIntoEscrow(g.orders[0], brandId);
    for (const g of completing) {
      await payIntoEscrow(g.orders[1], brandId);
      expect((await inventory.group(drop.id, g.groupId))?.status).toBe('completing');
    }
    // Both halves due at once, so the kill meets completions and failures in the same sweep:
    // the failing ones past their deadline, the completing ones past their grace (their place in
    // the sweeper's index moved, as if the payer's 5 s had passed).
    const deadline = (await redisNow(own.redis)) - 1;
    for (const g of completing) {
      await own.redis.zadd(dropKeys(drop.id).groups, 'XX', deadline, g.groupId);
    }
    for (const g of failing) await moveGroupDeadline(own.redis, drop.id, g.groupId, deadline);

    const ended = async () => GROUPS - (await own.redis.zcard(dropKeys(drop.id).groups));
    expect(await eventually(async () => (await ended()) >= KILL_AFTER_ENDED, 60_000, 20)).toBe(
      true,
    );
    own.kill9('worker');
    const atKill = await ended();
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    await own.restart('worker');
    expect(await eventually(async () => (await ended()) === GROUPS, 120_000, 250)).toBe(true);

    // Each group's end counted once (finish_group / settle_failed_group count it in the same
    // step that ends it: a second end of any group would count twice).
    const stats = await own.redis.hmget(
      dropKeys(drop.id).stats,
      'groupsCompleted',
      'groupsFailed',
      'grouped',
      'escrowMinor',
    );
    expect(stats.map(Number)).toEqual([completing.length, failing.length, 0, 0]);
    const { moved, kindsOf } = await transfersByOrder(own.db, drop.id);
    for (const m of moved) expect(m.n).toBe(1);
    for (const g of completing) {
      expect((await inventory.group(drop.id, g.groupId))?.status).toBe('complete');
      for (const o of g.orders) {
        expect((await inventory.getOrder(o.id))?.status).toBe('paid');
        expect(kindsOf(o.id)).toEqual(['group_release', 'payment']);
      }
    }
    for (const g of failing) {
      expect((await inventory.group(drop.id, g.groupId))?.status).toBe('failed');
      const [paid, unpaid] = await Promise.all(g.orders.map((o) => inventory.getOrder(o.id)));
      expect(paid?.status).toBe('refunded');
      expect(kindsOf(g.orders[0].id)).toEqual(['payment', 'refund']);
      expect(unpaid?.status).toBe('expired');
      expect(kindsOf(g.orders[1].id)).toEqual([]);
    }
    const [escrow] = await own.db.query(
      `SELECT COALESCE(sum(balance_minor), 0)::bigint AS total FROM wallet.accounts
       WHERE kind = 'escrow' AND owner_id = $1`,
      [drop.id],
    );
    expect(Number(escrow.total)).toBe(0);
    console.log(
      `group buy, worker kill -9: ${atKill} of ${GROUPS} groups ended before the kill, ` +
        `the rest after the restart`,
    );
    expect(atKill).toBeLessThan(GROUPS);
    expect((await runAudit(inventory, new LedgerFacts(own.db), [drop.id])).breaches).toEqual([]);
  }, 300_000);
});
