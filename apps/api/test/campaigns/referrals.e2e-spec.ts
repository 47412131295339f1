import { runAudit } from '@flashdrop/audit';
import { Inventory } from '@flashdrop/inventory';
import { LedgerFacts } from '@flashdrop/ledger';
import {
  api,
  balancesOf,
  closeStackConnections,
  createDrop,
  dropBody,
  dropKeys,
  errorOf,
  eventually,
  fanIds,
  fund,
  grabVia,
  openDropBody,
  openStackConnections,
  OrderBody,
  pay,
  revenueOf,
  tokenFor,
  uniqueId,
} from '@flashdrop/testing';
import { RedisClient } from '@flashdrop/persistence';
import { DataSource } from 'typeorm';

const PRICE = 10_000;
const DISCOUNT = 1_500;
const REWARD = 700;

interface Transactions {
  items: { kind: string; amountMinor: number; orderId?: string }[];
}

/**
 * Referral rewards through the running stack (docs/api.md "Campaigns"): the drop's field
 * checked at the border; a fan's referrer taken from their reservation; the reward paid with the
 * payment, shown in the referrer's wallet, net in the brand's revenue and in the stats; a refund
 * reversing it. Every number checked against the ledger for every order of the drop.
 */
describe('campaigns: referral rewards', () => {
  let redis: RedisClient;
  let inventory: Inventory;
  let db: DataSource;

  beforeAll(async () => ({ redis, inventory, db } = await openStackConnections()));
  afterAll(() => closeStackConnections({ redis, db }));

  it.each([
    ['past the price', { referralRewardMinor: PRICE + 1 }],
    [
      'past price - discount',
      { shareDiscountMinor: DISCOUNT, referralRewardMinor: PRICE - DISCOUNT + 1 },
    ],
    ['negative', { referralRewardMinor: -1 }],
    ['fractional', { referralRewardMinor: 1.5 }],
  ])('refuses a drop whose referralRewardMinor is %s, writing nothing', async (_what, fields) => {
    const brand = tokenFor('brand', uniqueId('brand'));
    const res = await api<{ details?: { field: string }[] }>('POST', '/v1/drops', {
      token: brand,
      body: dropBody({ priceMinor: PRICE, ...fields }),
    });
    expect(res.status).toBe(400);
    expect(errorOf(res)).toBe('VALIDATION_FAILED');
    expect(res.body.details?.map((d) => d.field)).toContain('referralRewardMinor');
    expect((await api('GET', '/v1/drops', { token: brand })).body).toEqual([]);
  });

  it('refuses a PATCH that would leave the reward past price - discount, changing nothing', async () => {
    const brand = tokenFor('brand', uniqueId('brand'));
    const drop = await createDrop(
      dropBody({ priceMinor: PRICE, shareDiscountMinor: DISCOUNT, referralRewardMinor: REWARD }),
      brand,
    );
    for (const body of [
      { referralRewardMinor: PRICE - DISCOUNT + 1 },
      { shareDiscountMinor: PRICE - REWARD + 1 },
      { priceMinor: REWARD + DISCOUNT - 1 },
    ]) {
      const res = await api('PATCH', `/v1/drops/${drop.id}`, { token: brand, body });
      expect(res.status).toBe(400);
      expect(errorOf(res)).toBe('VALIDATION_FAILED');
    }
    expect((await api('GET', `/v1/drops/${drop.id}`)).body).toMatchObject({
      priceMinor: PRICE,
      shareDiscountMinor: DISCOUNT,
      referralRewardMinor: REWARD,
    });
    expect(
      await redis.hmget(
        dropKeys(drop.id).drop,
        'priceMinor',
        'shareDiscountMinor',
        'referralRewardMinor',
      ),
    ).toEqual([String(PRICE), String(DISCOUNT), String(REWARD)]);
  });

  it("every order of the drop: each referred paid order pays its referrer once, in the referrer's wallet, the brand's revenue and the stats; none for oneself; a refund reverses it", async () => {
    const brandId = uniqueId('brand');
    const brand = tokenFor('brand', brandId);
    const drop = await createDrop(
      openDropBody({ priceMinor: PRICE, referralRewardMinor: REWARD, quantity: 40 }),
      brand,
    );
    expect(drop.referralRewardMinor).toBe(REWARD);
    const [friendA, friendB] = fanIds(2);
    const fans = fanIds(30);
    await fund(fans, 2 * PRICE);
    // A third of the fans are referred by A, a third by B, a third by themselves (no reward).
    const referrerOf = (i: number) => [friendA, friendB, fans[i]][i % 3];
    for (const [i, fan] of fans.entries()) {
      const reserved = await api('POST', `/v1/drops/${drop.id}/reservations`, {
        token: tokenFor('fan', fan),
        body: { referrerId: referrerOf(i) },
      });
      expect(reserved.status).toBe(201);
    }
    const orders: OrderBody[] = [];
    for (const fan of fans) {
      const grabbed = await grabVia(drop.id, tokenFor('fan', fan), { quantity: 1 });
      expect(grabbed.status).toBe(201);
      orders.push(grabbed.body);
    }
    // Paid concurrently: the rewards of one referrer's orders meet in the wallet's batches.
    const paid = await Promise.all(orders.map((o) => pay(o.id, o.fanId)));
    expect(paid.map((p) => p.status)).toEqual(orders.map(() => 200));

    // Against the ledger, for every order of the drop.
    const rows = (await db.query(
      `SELECT order_id, fan_id, amount_minor::int AS amount FROM wallet.transfers
       WHERE kind = 'referral_reward' AND drop_id = $1`,
      [drop.id],
    )) as { order_id: string; fan_id: string; amount: number }[];
    const rewardOf = new Map(rows.map((r) => [r.order_id, r]));
    expect(rows).toHaveLength(20);
    orders.forEach((o, i) => {
      const referrer = referrerOf(i);
      if (referrer === o.fanId) expect(rewardOf.get(o.id)).toBeUndefined();
      else expect(rewardOf.get(o.id)).toEqual({ order_id: o.id, fan_id: referrer, amount: REWARD });
    });
    const balances = await balancesOf(db, [friendA, friendB]);
    expect([balances.get(friendA), balances.get(friendB)]).toEqual([10 * REWARD, 10 * REWARD]);
    expect(await revenueOf(db, brandId)).toBe(30 * PRICE - 20 * REWARD);
    const txs = await api<Transactions>('GET', '/v1/wallet/transactions', {
      token: tokenFor('fan', friendA),
    });
    expect(txs.body.items).toHaveLength(10);
    expect(
      txs.body.items.every((t) => t.kind === 'referral_reward' && t.amountMinor === REWARD),
    ).toBe(true);
    expect((await inventory.counters(drop.id)).referralRewardsMinor).toBe(20 * REWARD);

    // The refund of a paid order referred by A takes A's reward back.
    const refunded = orders[0];
    const res = await api('POST', `/v1/orders/${refunded.id}/refund`, {
      token: brand,
      body: { reason: 'returned' },
    });
    expect(res.status).toBe(200);
    expect((await balancesOf(db, [friendA])).get(friendA)).toBe(9 * REWARD);
    const afterRefund = await api<Transactions>('GET', '/v1/wallet/transactions', {
      token: tokenFor('fan', friendA),
    });
    expect(afterRefund.body.items[0]).toMatchObject({
      kind: 'referral_reward_reversal',
      amountMinor: -REWARD,
      orderId: refunded.id,
    });
    expect(await revenueOf(db, brandId)).toBe(29 * PRICE - 19 * REWARD);
    const operator = tokenFor('operator');
    const statsAgree = await eventually(async () => {
      const stats = await api<{ referralRewardsMinor: number }>(
        'GET',
        `/v1/drops/${drop.id}/stats`,
        { token: operator },
      );
      return stats.body.referralRewardsMinor === 19 * REWARD;
    }, 20_000);
    expect(statsAgree).toBe(true);
    const audit = await runAudit(inventory, new LedgerFacts(db), [drop.id]);
    expect(audit.breaches).toEqual([]);
  }, 120_000);
});
