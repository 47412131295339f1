import type { RedisClient } from '@flashdrop/persistence';
import { DataSource } from 'typeorm';
import { DropDefinition, GroupSettlement, Inventory, InventoryOrder } from '@flashdrop/inventory';
import {
  balancesOf,
  debitsOf,
  fanIds,
  heldOrders,
  LedgerSpecFixture,
  moveGroupDeadline,
  redisNow,
} from '@flashdrop/testing';
import { runAudit } from '@flashdrop/audit';
import { LedgerFacts } from './ledger-facts';
import { LedgerRepository } from './ledger.repository';
import { shardOf } from './shards';

const PRICE = 1_999;
const REWARD = 300;

/**
 * Referral rewards against the real PostgreSQL and Redis (PAYMENTS.md "Referral rewards"): the
 * reward is decided by the hold's step from the fan's reservation, paid by the payment's own
 * transaction exactly once however the payment is raced, and reversed by a refund as far as the
 * referrer's balance goes. Orders are real orders in Redis, settled the way the API settles
 * them, so the audit cross-checks every reward against its order.
 */
describe('referral rewards in the ledger', () => {
  let redis: RedisClient;
  let db: DataSource;
  let inventory: Inventory;
  let ledger: LedgerRepository;

  const spec = new LedgerSpecFixture();
  const { fund, begin, debitOf } = spec;

  beforeAll(async () => {
    await spec.open();
    ({ redis, inventory, db, ledger } = spec);
  });

  afterAll(() => spec.close());

  /** A drop with a referral reward; each fan reserved with `referrerOf`'s referrer, holding one unit. */
  const referredOrders = (
    fans: readonly string[],
    referrerOf: (fanId: string, i: number) => string | undefined,
    reward = REWARD,
    overrides: Partial<DropDefinition> = {},
  ) =>
    heldOrders(
      inventory,
      fans,
      { priceMinor: PRICE, referralRewardMinor: reward, ...overrides },
      referrerOf,
    );

  async function rewardsOf(orderIds: readonly string[]) {
    const rows: { order_id: string; fan_id: string; n: string; amount: string }[] = await db.query(
      `SELECT order_id, min(fan_id) AS fan_id, count(*) AS n, sum(amount_minor) AS amount
       FROM wallet.transfers WHERE kind = 'referral_reward' AND order_id = ANY($1)
       GROUP BY order_id`,
      [orderIds],
    );
    return new Map(
      rows.map((r) => [
        r.order_id,
        { referrerId: r.fan_id, count: Number(r.n), amount: Number(r.amount) },
      ]),
    );
  }

  const audit = async (dropId: string) =>
    (await runAudit(new Inventory(redis), new LedgerFacts(db), [dropId])).breaches;

  it('decides the reward at the hold from the reservation: never for the fan themself, none without a referrer or a reward', async () => {
    const [referred, self, plain, referrer] = fanIds(4);
    const { drop, orders } = await referredOrders([referred, self, plain], (fanId) =>
      fanId === referred ? referrer : fanId === self ? self : undefined,
    );
    const [referredO, selfO, plainO] = orders;
    expect(referredO).toMatchObject({ referrerId: referrer, rewardMinor: REWARD });
    expect(selfO.referrerId).toBeUndefined();
    expect(selfO.rewardMinor).toBeUndefined();
    expect(plainO.referrerId).toBeUndefined();
    // Only the referred reservation is in the referrers' record.
    const refKey = `{d:${drop.id}}:ref`;
    expect(await redis.hgetall(refKey)).toEqual({ [referred]: referrer });

    // The same referred fan on a drop without a reward owes nothing.
    const { orders: unrewarded } = await referredOrders([referred], () => referrer, 0);
    expect(unrewarded[0].referrerId).toBeUndefined();
    expect(unrewarded[0].rewardMinor).toBeUndefined();
  });

  it('200 concurrent payments of referred orders, each attempt asked twice through two wallets: each reward paid once, with its payment', async () => {
    const fans = fanIds(200);
    const referrers = fanIds(10);
    const { drop, orders } = await referredOrders(fans, (_f, i) => referrers[i % 10]);
    await Promise.all(fans.map((f) => fund(f, PRICE)));
    const attempts = await Promise.all(orders.map(begin));
    const other = new LedgerRepository(db);
    const asks = orders.flatMap((o, i) => [
      debitOf(o, attempts[i], drop.brandId),
      debitOf(o, attempts[i], drop.brandId),
    ]);
    const replies = await Promise.all(
      asks.map((a, k) => (k % 2 === 0 ? ledger.debit(a) : other.debit(a))),
    );
    expect(replies.every((r) => r.outcome === 'debited')).toBe(true);
    for (const o of orders) expect((await inventory.completePayment(o.id)).ok).toBe(true);

    const ids = orders.map((o) => o.id);
    const debits = await debitsOf(db, ids);
    const rewards = await rewardsOf(ids);
    for (const o of orders) {
      expect(debits.get(o.id)).toEqual({ count: 1, amount: PRICE });
      expect(rewards.get(o.id)).toEqual({ referrerId: o.referrerId, count: 1, amount: REWARD });
    }
    // Each referrer referred 20 paid orders.
    const balances = await balancesOf(db, referrers);
    for (const r of referrers) expect(balances.get(r)).toBe(20 * REWARD);
    // The brand's revenue is the payments less the rewards, to the fen.
    const [revenue] = await db.query(
      `SELECT sum(balance_minor) AS total FROM wallet.accounts
       WHERE kind = 'revenue' AND owner_id = $1`,
      [drop.brandId],
    );
    expect(Number(revenue.total)).toBe(200 * (PRICE - REWARD));
    const stats = await inventory.counters(drop.id);
    expect(stats?.referralRewardsMinor).toBe(200 * REWARD);
    expect(await audit(drop.id)).toEqual([]);

    // A new attempt of a paid order debits nothing and rewards nothing: declined (the fan spent
    // their money) or refused by the payment's unique key, never debited.
    const again = await ledger
      .debit(debitOf(orders[0], attempts[0] + 1, drop.brandId))
      .catch(() => undefined);
    expect(again?.outcome).not.toBe('debited');
    expect((await rewardsOf([orders[0].id])).get(orders[0].id)?.count).toBe(1);
  }, 120_000);

  it('a payer killed after the debit leaves the order paying with its reward paid: the audit accepts it, as it accepts the debit, before and after the completion', async () => {
    // Found by the simulation (seed 176 of `npm run simulate -- --seeds 300`): the audit called
    // this window "rewarded but paying".
    const [fan, referrer] = fanIds(2);
    const { drop, orders } = await referredOrders([fan], () => referrer);
    await fund(fan, PRICE);
    const attempt = await begin(orders[0]);
    expect((await ledger.debit(debitOf(orders[0], attempt, drop.brandId))).outcome).toBe('debited');
    expect((await inventory.getOrder(orders[0].id))?.status).toBe('paying');
    expect((await rewardsOf([orders[0].id])).get(orders[0].id)?.count).toBe(1);
    expect(await audit(drop.id)).toEqual([]);
    expect((await inventory.completePayment(orders[0].id)).ok).toBe(true);
    expect(await audit(drop.id)).toEqual([]);
  });

  it("a group member's reward is paid by its escrow's release: none for a failed group's member refunded from escrow, once for a complete group's; the audit accepts both", async () => {
    // Found by the simulation (seed 6 of `npm run simulate -- --seeds 12`, group buy): the audit
    // called a failed group's referred member, refunded from escrow, "refunded with a reward
    // never paid"; its reward was never owed (the release pays it, and a failed group releases
    // nothing).
    const [a, b, referrer] = fanIds(3);
    const settlement = new GroupSettlement(inventory, ledger);
    /** A group-buy drop of two; `a` holds one unit (a new group), both fans referred. */
    async function groupOfOne() {
      const { drop, orders } = await referredOrders([a], () => referrer, REWARD, {
        quantity: 2,
        groupSize: 2,
        groupSeconds: 60,
      });
      return { drop, first: orders[0], groupId: orders[0].groupId! };
    }
    /** A member pays as the API does: into escrow, its reward left for the release. */
    async function payMember(o: InventoryOrder, brandId: string) {
      await fund(o.fanId, PRICE);
      const attempt = await begin(o);
      expect((await ledger.debit(debitOf(o, attempt, brandId))).outcome).toBe('debited');
      expect((await inventory.completePayment(o.id)).ok).toBe(true);
    }

    const failing = await groupOfOne();
    expect(failing.first).toMatchObject({ referrerId: referrer, rewardMinor: REWARD });
    await payMember(failing.first, failing.drop.brandId);
    expect((await inventory.getOrder(failing.first.id))?.status).toBe('grouped');
    await moveGroupDeadline(redis, failing.drop.id, failing.groupId, (await redisNow(redis)) - 1);
    expect(await settlement.settle(failing.drop.id, failing.groupId)).toBe('failed');
    expect((await inventory.getOrder(failing.first.id))?.status).toBe('refunded');
    expect((await rewardsOf([failing.first.id])).size).toBe(0);
    expect(await audit(failing.drop.id)).toEqual([]);

    const completing = await groupOfOne();
    expect((await inventory.reserve(completing.drop.id, b, referrer)).ok).toBe(true);
    const joined = await inventory.grab({
      dropId: completing.drop.id,
      fanId: b,
      quantity: 1,
      groupId: completing.groupId,
    });
    if (!joined.ok) throw new Error(`join refused: ${joined.code}`);
    await payMember(completing.first, completing.drop.brandId);
    await payMember(joined.order, completing.drop.brandId);
    expect(await settlement.settle(completing.drop.id, completing.groupId)).toBe('complete');
    const ids = [completing.first.id, joined.order.id];
    const rewards = await rewardsOf(ids);
    for (const id of ids)
      expect(rewards.get(id)).toEqual({ referrerId: referrer, count: 1, amount: REWARD });
    expect(await audit(completing.drop.id)).toEqual([]);
  });

  it("a group member's payer killed after the escrow debit leaves it paying with its money in escrow: the audit accepts it, before and after the completion", async () => {
    // Found by the simulation (seed 83 of `npm run simulate -- --from 0 --seeds 150`): the
    // audit called this window "escrow holds 9900, its grouped orders 0".
    const [fan, referrer] = fanIds(2);
    const { drop, orders } = await referredOrders([fan], () => referrer, REWARD, {
      quantity: 2,
      groupSize: 2,
      groupSeconds: 60,
    });
    await fund(fan, PRICE);
    const attempt = await begin(orders[0]);
    expect((await ledger.debit(debitOf(orders[0], attempt, drop.brandId))).outcome).toBe('debited');
    expect((await inventory.getOrder(orders[0].id))?.status).toBe('paying');
    expect(await audit(drop.id)).toEqual([]);
    expect((await inventory.completePayment(orders[0].id)).ok).toBe(true);
    expect((await inventory.getOrder(orders[0].id))?.status).toBe('grouped');
    expect(await audit(drop.id)).toEqual([]);
  });

  it("a completer killed after one member's release leaves that member grouped, released and rewarded in a completing group: the audit accepts it, and once the group sweeper finishes it", async () => {
    // Found by the simulation (seeds 28, 30, 33 of `npm run simulate -- --seeds 40`, once its
    // completer crash was reached): the audit called this window "escrow holds 400, its grouped
    // orders 900", "released from escrow but grouped", "rewarded but grouped".
    const [a, b, referrer] = fanIds(3);
    const { drop, orders } = await referredOrders([a, b], () => referrer, REWARD, {
      quantity: 4,
      groupSize: 2,
      groupSeconds: 60,
    });
    // heldOrders gave each fan a group of its own: b leaves its own and joins a's.
    expect((await inventory.cancelOrder(orders[1].id, b)).ok).toBe(true);
    const joined = await inventory.grab({
      dropId: drop.id,
      fanId: b,
      quantity: 1,
      groupId: orders[0].groupId,
    });
    if (!joined.ok) throw new Error(`join refused: ${joined.code}`);
    const members = [orders[0], joined.order];
    for (const o of members) {
      await fund(o.fanId, PRICE);
      const attempt = await begin(o);
      expect((await ledger.debit(debitOf(o, attempt, drop.brandId))).outcome).toBe('debited');
      expect((await inventory.completePayment(o.id)).ok).toBe(true);
    }
    const groupId = orders[0].groupId!;
    expect((await inventory.group(drop.id, groupId))?.status).toBe('completing');
    // The completer's settlement dies right after the wallet's first release.
    let releases = 0;
    const dying = new GroupSettlement(inventory, {
      release: async (request) => {
        const reply = await ledger.release(request);
        if (++releases === 1) throw new Error('killed after the first release');
        return reply;
      },
      refund: (request) => ledger.refund(request),
    });
    await expect(dying.settle(drop.id, groupId)).rejects.toThrow('killed');
    const statuses = await Promise.all(members.map((o) => inventory.getOrder(o.id)));
    expect(statuses.map((o) => o?.status)).toEqual(['grouped', 'grouped']);
    expect((await rewardsOf(members.map((o) => o.id))).size).toBe(1);
    expect(await audit(drop.id)).toEqual([]);

    expect(await new GroupSettlement(inventory, ledger).settle(drop.id, groupId)).toBe('complete');
    const rewards = await rewardsOf(members.map((o) => o.id));
    for (const o of members) {
      expect(rewards.get(o.id)).toEqual({ referrerId: referrer, count: 1, amount: REWARD });
    }
    expect(await audit(drop.id)).toEqual([]);
  });

  it('a declined payment pays no reward', async () => {
    const [poor, referrer] = fanIds(2);
    const { drop, orders } = await referredOrders([poor], () => referrer);
    await fund(poor, PRICE - 1);
    const attempt = await begin(orders[0]);
    const reply = await ledger.debit(debitOf(orders[0], attempt, drop.brandId));
    expect(reply.outcome).toBe('declined');
    await inventory.abortPayment(orders[0].id, attempt);
    expect(await rewardsOf([orders[0].id])).toEqual(new Map());
    expect((await balancesOf(db, [referrer])).get(referrer) ?? 0).toBe(0);
    expect(await audit(drop.id)).toEqual([]);
  });

  it("a refund reverses the reward; one the referrer spent is borne by the brand (the shard filled from the brand's others), and the audit counts it", async () => {
    // 40 paid orders over 16 shards; the refunded ones share one shard with at least one more.
    const fans = fanIds(40);
    const [referrer] = fanIds(1);
    const { drop, orders } = await referredOrders(fans, () => referrer);
    await Promise.all(fans.map((f) => fund(f, PRICE)));
    const attempts = await Promise.all(orders.map(begin));
    await Promise.all(orders.map((o, i) => ledger.debit(debitOf(o, attempts[i], drop.brandId))));
    for (const o of orders) expect((await inventory.completePayment(o.id)).ok).toBe(true);
    expect((await balancesOf(db, [referrer])).get(referrer)).toBe(40 * REWARD);

    const sameShard = (o: InventoryOrder) => orders.filter((p) => shardOf(p.id) === shardOf(o.id));
    const crowded = orders.find((o) => sameShard(o).length >= 3);
    if (!crowded) throw new Error('no shard holds three of 40 orders');
    const [full, partial, ...rest] = sameShard(crowded);

    // Fully reversed: the referrer holds far more than one reward.
    const attemptOf = new Map<string, number>();
    const refund = async (o: InventoryOrder) => {
      const begun = await inventory.beginRefund(o.id, 'test');
      const attempt = begun.ok ? begun.value.order.refundingSince : undefined;
      if (attempt === undefined) throw new Error('begin_refund gave no attempt');
      attemptOf.set(o.id, attempt);
      const reply = await ledger.refund({ orderId: o.id, attempt });
      expect((await inventory.completeRefund(o.id)).ok).toBe(true);
      return reply;
    };
    expect(await refund(full)).toMatchObject({
      outcome: 'refunded',
      amountMinor: PRICE,
      rewardReversedMinor: REWARD,
      rewardUnrecoveredMinor: 0,
    });
    expect((await balancesOf(db, [referrer])).get(referrer)).toBe(39 * REWARD);

    // The referrer spends all but 100 of their rewards on an order of their own elsewhere;
    // the next refund can take back only those 100.
    const left = 100;
    const { drop: shop, orders: spent } = await heldOrders(inventory, [referrer], {
      priceMinor: 39 * REWARD - left,
    });
    const spentAttempt = await begin(spent[0]);
    expect((await ledger.debit(debitOf(spent[0], spentAttempt, shop.brandId))).outcome).toBe(
      'debited',
    );
    expect((await inventory.completePayment(spent[0].id)).ok).toBe(true);
    expect((await balancesOf(db, [referrer])).get(referrer)).toBe(left);

    const reply = await refund(partial);
    expect(reply).toMatchObject({
      outcome: 'refunded',
      rewardReversedMinor: left,
      rewardUnrecoveredMinor: REWARD - left,
    });
    expect((await balancesOf(db, [referrer])).get(referrer)).toBe(0);
    // A repeat moves nothing and answers the same reversal.
    expect(
      await ledger.refund({ orderId: partial.id, attempt: attemptOf.get(partial.id) ?? 0 }),
    ).toMatchObject({
      outcome: 'already',
      rewardReversedMinor: left,
      rewardUnrecoveredMinor: REWARD - left,
    });

    // Every other order of that shard too: nothing comes back from the referrer any more, so
    // each refund's payment shard runs short and is filled from the brand's other shards.
    for (const o of rest) {
      expect(await refund(o)).toMatchObject({
        outcome: 'refunded',
        rewardReversedMinor: 0,
        rewardUnrecoveredMinor: REWARD,
      });
    }
    const [moves] = (await db.query(
      `SELECT count(*)::int AS n FROM wallet.transfers WHERE kind = 'revenue_move' AND drop_id = $1`,
      [drop.id],
    )) as { n: number }[];
    expect(moves.n).toBeGreaterThan(0);
    const refundedCount = 2 + rest.length;
    const [revenue] = (await db.query(
      `SELECT sum(balance_minor)::bigint AS total FROM wallet.accounts
       WHERE kind = 'revenue' AND owner_id = $1`,
      [drop.brandId],
    )) as { total: string }[];
    // Payments kept, less the rewards paid, plus what came back from the referrer.
    expect(Number(revenue.total)).toBe((40 - refundedCount) * PRICE - 40 * REWARD + REWARD + left);
    const report = await runAudit(new Inventory(redis), new LedgerFacts(db), [drop.id]);
    expect(report.breaches).toEqual([]);
    expect(report.rewardsUnrecoveredMinor).toBe(REWARD - left + rest.length * REWARD);
    const stats = await inventory.counters(drop.id);
    expect(stats?.referralRewardsMinor).toBe((40 - refundedCount) * REWARD);
  }, 120_000);

  it("a refund without a reward from a shard an earlier refund's move emptied is paid from the brand's other shards; one the brand's whole revenue cannot pay is declined for its attempt, moving nothing", async () => {
    // Three paid orders of one brand on three shards: X rewarded the whole price (its referrer
    // spends it), Y and W without a reward, Y's shard below W's. X's refund fills X's shard
    // from Y's (the lowest other), so Y's shard is empty while the brand still holds W's price.
    const fans = fanIds(60);
    const [referrer] = fanIds(1);
    const { drop, orders } = await referredOrders(
      fans,
      (_f, i) => (i === 0 ? referrer : undefined),
      PRICE,
    );
    const x = orders[0];
    const others = orders
      .slice(1)
      .filter((o) => shardOf(o.id) !== shardOf(x.id))
      .sort((a, b) => shardOf(a.id) - shardOf(b.id));
    const y = others[0];
    const w = others.find((o) => shardOf(o.id) > shardOf(y.id));
    if (!w) throw new Error('no third shard among 60 orders');
    await Promise.all([x, y, w].map((o) => fund(o.fanId, PRICE)));
    for (const o of [x, y, w]) {
      const attempt = await begin(o);
      expect((await ledger.debit(debitOf(o, attempt, drop.brandId))).outcome).toBe('debited');
      expect((await inventory.completePayment(o.id)).ok).toBe(true);
    }
    const { drop: shop, orders: spent } = await heldOrders(inventory, [referrer], {
      priceMinor: PRICE,
    });
    const spentAttempt = await begin(spent[0]);
    expect((await ledger.debit(debitOf(spent[0], spentAttempt, shop.brandId))).outcome).toBe(
      'debited',
    );
    expect((await inventory.completePayment(spent[0].id)).ok).toBe(true);
    expect((await balancesOf(db, [referrer])).get(referrer)).toBe(0);

    const beginRefund = async (o: InventoryOrder) => {
      const begun = await inventory.beginRefund(o.id, 'test');
      const attempt = begun.ok ? begun.value.order.refundingSince : undefined;
      if (attempt === undefined) throw new Error('begin_refund gave no attempt');
      return attempt;
    };
    const refundOf = async (o: InventoryOrder) => {
      const reply = await ledger.refund({ orderId: o.id, attempt: await beginRefund(o) });
      expect((await inventory.completeRefund(o.id)).ok).toBe(true);
      return reply;
    };
    expect(await refundOf(x)).toMatchObject({ outcome: 'refunded', rewardUnrecoveredMinor: PRICE });
    // Y carries no reward, but its shard was emptied by X's move: filled from W's.
    expect(await refundOf(y)).toMatchObject({ outcome: 'refunded', amountMinor: PRICE });
    expect((await balancesOf(db, [y.fanId])).get(y.fanId)).toBe(PRICE);
    const revenue = async () =>
      Number(
        (
          (await db.query(
            `SELECT sum(balance_minor)::bigint AS total FROM wallet.accounts
             WHERE kind = 'revenue' AND owner_id = $1`,
            [drop.brandId],
          )) as { total: string }[]
        )[0].total,
      );
    expect(await revenue()).toBe(0);

    // W: the brand holds nothing now. Declined, nothing written but the decline; asked again
    // (another caller of the same attempt, 20 at once), declined again.
    const transfersOf = async (orderId: string) =>
      (await db.query(`SELECT kind FROM wallet.transfers WHERE order_id = $1 ORDER BY id`, [
        orderId,
      ])) as { kind: string }[];
    const before = {
      transfers: await transfersOf(w.id),
      fan: (await balancesOf(db, [w.fanId])).get(w.fanId),
    };
    const attempt = await beginRefund(w);
    const replies = await Promise.all(
      Array.from({ length: 20 }, () => ledger.refund({ orderId: w.id, attempt })),
    );
    expect(replies.map((r) => r.outcome)).toEqual(replies.map(() => 'declined'));
    expect(replies[0]).toMatchObject({ amountMinor: 0, balanceMinor: 0 });
    expect({
      transfers: await transfersOf(w.id),
      fan: (await balancesOf(db, [w.fanId])).get(w.fanId),
    }).toEqual(before);
    expect(await revenue()).toBe(0);
    const declines = (await db.query(
      `SELECT attempt::bigint::text AS attempt, amount_minor::int AS amount,
              short_minor::int AS short
       FROM wallet.refund_declines WHERE order_id = $1`,
      [w.id],
    )) as { attempt: string; amount: number; short: number }[];
    expect(declines).toEqual([{ attempt: String(attempt), amount: PRICE, short: PRICE }]);
    expect((await inventory.abortRefund(w.id, attempt)).ok).toBe(true);
    expect((await inventory.getOrder(w.id))?.status).toBe('paid');
    expect(await audit(drop.id)).toEqual([]);
  }, 120_000);
});
