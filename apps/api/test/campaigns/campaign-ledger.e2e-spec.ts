import { runAudit } from '@flashdrop/audit';
import { Inventory } from '@flashdrop/inventory';
import { LedgerFacts } from '@flashdrop/ledger';
import { RedisClient } from '@flashdrop/persistence';
import {
  api,
  balancesOf,
  closeStackConnections,
  createDrop,
  dropKeys,
  eventually,
  fanIds,
  fund,
  grabVia,
  moveGroupDeadline,
  openDropBody,
  openStackConnections,
  OrderBody,
  pay,
  redisNow,
  revenueOf,
  tokenFor,
  uniqueId,
} from '@flashdrop/testing';
import { DataSource } from 'typeorm';

const PRICE = 10_000;
const DISCOUNT = 1_500;
const REWARD = 700;
const TIER = 'gold';
const SIZE = 3;

type Order = OrderBody & { groupId?: string; discountMinor: number; unitPriceMinor: number };

interface Transfer {
  kind: string;
  fan_id: string | null;
  amount: number;
}

/**
 * One drop with every campaign at once (members-only, the share discount, the referral reward,
 * group buy) and every order of it reconciled with the ledger to the fen: the price each fan was
 * held at (discounted exactly for those who shared first), the payment into escrow, the release
 * of a completed group with its rewards (one per referred member, never for oneself), the refund
 * of a failed group's paid members at what they paid and without a reward, a brand's refund of a
 * completed member reversing its reward; then the fans', referrers' and brand's balances, the
 * drop's counters, the stats and the audit agree with those transfers.
 */
describe('campaigns together: discount and reward against the ledger, order by order', () => {
  let redis: RedisClient;
  let inventory: Inventory;
  let db: DataSource;

  beforeAll(async () => ({ redis, inventory, db } = await openStackConnections()));
  afterAll(() => closeStackConnections({ redis, db }));

  /** Every transfer of the drop, by order. */
  async function transfersByOrder(dropId: string): Promise<Map<string, Transfer[]>> {
    const rows = (await db.query(
      `SELECT order_id, kind, fan_id, amount_minor::int AS amount FROM wallet.transfers
        WHERE drop_id = $1 ORDER BY id`,
      [dropId],
    )) as (Transfer & { order_id: string })[];
    const out = new Map<string, Transfer[]>();
    for (const { order_id, ...t } of rows) out.set(order_id, [...(out.get(order_id) ?? []), t]);
    return out;
  }

  it('every order of a members-only group-buy drop with a share discount and a referral reward', async () => {
    const brandId = uniqueId('brand');
    const brand = tokenFor('brand', brandId);
    const drop = await createDrop(
      openDropBody({
        priceMinor: PRICE,
        quantity: 30,
        audienceTier: TIER,
        shareDiscountMinor: DISCOUNT,
        referralRewardMinor: REWARD,
        groupSize: SIZE,
      }),
      brand,
    );
    const token = (fan: string) => tokenFor('fan', fan, TIER);
    const [referrerA, referrerB] = fanIds(2);
    // Six groups of three: four complete, two fail (two paid members and one hold each).
    const fans = fanIds(6 * SIZE);
    await fund(fans, PRICE);
    const referrerOf = (i: number) => [referrerA, referrerB, fans[i]][i % 3];
    const shared = (i: number) => i % 2 === 0;
    for (const [i, fan] of fans.entries()) {
      const reserved = await api('POST', `/v1/drops/${drop.id}/reservations`, {
        token: token(fan),
        body: { referrerId: referrerOf(i) },
      });
      expect(reserved.status).toBe(201);
      if (shared(i)) {
        const res = await api('POST', `/v1/drops/${drop.id}/shares`, {
          token: token(fan),
          body: { channel: 'wechat' },
        });
        expect(res.status).toBe(202);
      }
    }
    const orders: Order[] = [];
    const groupIds: string[] = [];
    for (const [i, fan] of fans.entries()) {
      const g = Math.floor(i / SIZE);
      const res = await grabVia(
        drop.id,
        token(fan),
        i % SIZE === 0 ? {} : { groupId: groupIds[g] },
      );
      expect(res.status).toBe(201);
      const order = res.body as Order;
      if (i % SIZE === 0) groupIds.push(String(order.groupId));
      orders.push(order);
    }
    // The hold's price, decided from the share record in the grab's step.
    for (const [i, o] of orders.entries()) {
      const unit = shared(i) ? PRICE - DISCOUNT : PRICE;
      expect(o).toMatchObject({
        fanId: fans[i],
        unitPriceMinor: unit,
        discountMinor: PRICE - unit,
        amountMinor: unit,
      });
    }
    const completing = (i: number) => Math.floor(i / SIZE) < 4;
    const paying = (i: number) => completing(i) || i % SIZE !== SIZE - 1;
    for (const [i, o] of orders.entries()) {
      if (!paying(i)) continue;
      const paid = await pay(o.id, fans[i]);
      expect(paid.status).toBe(200);
      // The payment that fills its group answers paid; every other waits in escrow.
      expect(paid.body.status).toBe(completing(i) && i % SIZE === SIZE - 1 ? 'paid' : 'grouped');
    }
    const now = await redisNow(redis);
    for (const g of [4, 5]) await moveGroupDeadline(redis, drop.id, groupIds[g], now - 1);
    const ended = await eventually(async () => (await redis.zcard(dropKeys(drop.id).groups)) === 0);
    expect(ended).toBe(true);

    // The brand refunds one completed member referred by A: its reward comes back.
    const refundedIndex = 3;
    expect(referrerOf(refundedIndex)).toBe(referrerA);
    const refund = await api('POST', `/v1/orders/${orders[refundedIndex].id}/refund`, {
      token: brand,
      body: { reason: 'returned' },
    });
    expect(refund.status).toBe(200);

    // Order by order, against the ledger.
    const moved = await transfersByOrder(drop.id);
    let revenue = 0;
    let rewards = 0;
    let discounts = 0;
    let statsRevenue = 0;
    const rewardOf = new Map<string, number>([
      [referrerA, 0],
      [referrerB, 0],
    ]);
    for (const [i, o] of orders.entries()) {
      const amount = o.amountMinor;
      const referred = referrerOf(i) !== fans[i];
      const expected: Transfer[] = [];
      if (paying(i)) expected.push({ kind: 'payment', fan_id: fans[i], amount });
      if (completing(i)) {
        expected.push({ kind: 'group_release', fan_id: fans[i], amount });
        if (referred)
          expected.push({ kind: 'referral_reward', fan_id: referrerOf(i), amount: REWARD });
      } else if (paying(i)) {
        expected.push({ kind: 'refund', fan_id: fans[i], amount });
      }
      if (i === refundedIndex) {
        expected.push({ kind: 'refund', fan_id: fans[i], amount });
        expected.push({ kind: 'referral_reward_reversal', fan_id: referrerOf(i), amount: REWARD });
      }
      const actual = (moved.get(o.id) ?? []).map((t) => ({ ...t, amount: Math.abs(t.amount) }));
      expect({ order: i, transfers: actual }).toEqual({
        order: i,
        transfers: expect.arrayContaining(expected),
      });
      expect(actual).toHaveLength(expected.length);
      const kept = completing(i) && i !== refundedIndex;
      if (kept) {
        revenue += amount - (referred ? REWARD : 0);
        rewards += referred ? REWARD : 0;
        discounts += o.discountMinor;
        statsRevenue += amount;
        if (referred) rewardOf.set(referrerOf(i), (rewardOf.get(referrerOf(i)) ?? 0) + REWARD);
      }
    }
    // The fans: each paid once what their hold said, and got it back when not kept.
    const balances = await balancesOf(db, [...fans, referrerA, referrerB]);
    for (const [i, o] of orders.entries()) {
      const kept = completing(i) && i !== refundedIndex;
      expect({ fan: i, balance: balances.get(fans[i]) }).toEqual({
        fan: i,
        balance: kept ? PRICE - o.amountMinor : PRICE,
      });
    }
    expect(balances.get(referrerA)).toBe(rewardOf.get(referrerA));
    expect(balances.get(referrerB)).toBe(rewardOf.get(referrerB));
    expect(discounts).toBeGreaterThan(0);
    expect(rewards).toBeGreaterThan(0);
    expect(await revenueOf(db, brandId)).toBe(revenue);
    const [escrow] = (await db.query(
      `SELECT COALESCE(sum(balance_minor), 0)::int AS total FROM wallet.accounts
        WHERE kind = 'escrow' AND owner_id = $1`,
      [drop.id],
    )) as { total: number }[];
    expect(escrow.total).toBe(0);
    const counters = await inventory.counters(drop.id);
    expect(counters).toMatchObject({
      revenueMinor: statsRevenue,
      discountsMinor: discounts,
      referralRewardsMinor: rewards,
    });
    const statsAgree = await eventually(async () => {
      const stats = await api<{ revenueMinor: number; referralRewardsMinor: number; paid: number }>(
        'GET',
        `/v1/drops/${drop.id}/stats`,
        { token: brand },
      );
      return (
        stats.body.revenueMinor === statsRevenue &&
        stats.body.referralRewardsMinor === rewards &&
        stats.body.paid === 4 * SIZE - 1
      );
    }, 20_000);
    expect(statsAgree).toBe(true);
    expect((await runAudit(inventory, new LedgerFacts(db), [drop.id])).breaches).toEqual([]);
  }, 120_000);
});
