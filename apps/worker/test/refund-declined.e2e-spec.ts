import { runAudit } from '@flashdrop/audit';
import { Inventory } from '@flashdrop/inventory';
import { LedgerFacts } from '@flashdrop/ledger';
import { RedisClient } from '@flashdrop/persistence';
import {
  api,
  balancesOf,
  closeStackWithWallet,
  createDrop,
  DROPS_ACTIVE_KEY,
  dropKeys,
  errorOf,
  fanIds,
  fund,
  grabVia,
  openDropBody,
  openStackWithWallet,
  OrderBody,
  pay,
  revenueOf,
  tokenFor,
  uniqueId,
} from '@flashdrop/testing';
import { WalletClient } from '@flashdrop/wallet-client';
import { DataSource } from 'typeorm';
import { RefundRecovery } from '../src/refund-recovery/refund-recovery';

const PRICE = 9_900;
const CONCURRENT = 100;

/**
 * A refund the brand's revenue cannot pay (apps/wallet/PAYMENTS.md "A refund the brand cannot
 * pay"; the simulation's seed 14): a referrer spent a reward the size of the price on their own
 * order of the same brand, the brand refunded the referred fan (bearing the reward), and now
 * refunds the referrer. The wallet declines that attempt for good, the order goes back to paid,
 * the API answers 402 INSUFFICIENT_FUNDS and nothing else is written; the refund recovery
 * racing it aborts the same attempt at most once and never pays it; once the brand has revenue
 * again, a new refund succeeds, once.
 */
describe('a refund the brand cannot pay', () => {
  let redis: RedisClient;
  let inventory: Inventory;
  let db: DataSource;
  let wallet: WalletClient;
  let recovery: RefundRecovery;

  beforeAll(async () => {
    ({ redis, inventory, db, wallet } = await openStackWithWallet());
    recovery = new RefundRecovery(inventory, wallet);
  });
  afterAll(() => closeStackWithWallet({ redis, inventory, db, wallet }));

  const refund = (orderId: string, token: string) =>
    api<OrderBody & { error?: string; message?: string }>('POST', `/v1/orders/${orderId}/refund`, {
      token,
      body: { reason: 'returned' },
    });

  /**
   * Seed 14's story: the referred fan paid (the referrer rewarded the whole price), the referrer
   * spent it on their own order, the referred fan was refunded (the brand bore the reward): the
   * brand's revenue is 0 and the referrer's order is paid.
   */
  async function brandWithoutRevenue() {
    const brandId = uniqueId('brand');
    const brand = tokenFor('brand', brandId);
    const drop = await createDrop(
      openDropBody({ priceMinor: PRICE, referralRewardMinor: PRICE, quantity: 3, perUserLimit: 1 }),
      brand,
    );
    const [referred, referrer, later] = fanIds(3);
    const reserved = await api('POST', `/v1/drops/${drop.id}/reservations`, {
      token: tokenFor('fan', referred),
      body: { referrerId: referrer },
    });
    expect(reserved.status).toBe(201);
    await fund([referred], PRICE);
    const first = await grabVia(drop.id, tokenFor('fan', referred), { quantity: 1 });
    expect((await pay(first.body.id, referred)).status).toBe(200);
    expect((await balancesOf(db, [referrer])).get(referrer)).toBe(PRICE);
    const own = await grabVia(drop.id, tokenFor('fan', referrer), { quantity: 1 });
    expect((await pay(own.body.id, referrer)).status).toBe(200);
    expect((await refund(first.body.id, brand)).status).toBe(200);
    expect(await revenueOf(db, brandId)).toBe(0);
    return { brandId, brand, drop, referrer, later, order: own.body };
  }

  /**
   * Everything a refund of `orderId` could write, besides the wallet's record of a decline. (Not
   * the drop's event stream: the stack's worker writes and trims it meanwhile; that a declined
   * refund emits nothing is libs/inventory refunds.int-spec's, on a Redis of its own.)
   */
  async function footprint(orderId: string, dropId: string, brandId: string, fanId: string) {
    const k = dropKeys(dropId);
    const [moved] = (await db.query(
      `SELECT count(*)::int AS n FROM wallet.transfers
       WHERE order_id = $1 AND kind IN ('refund', 'referral_reward_reversal', 'revenue_move')`,
      [orderId],
    )) as { n: number }[];
    const [outbox] = (await db.query(
      `SELECT count(*)::int AS n FROM wallet.outbox
       WHERE type = 'wallet.refunded' AND data->>'orderId' = $1`,
      [orderId],
    )) as { n: number }[];
    return {
      order: await redis.hgetall(k.order(orderId)),
      moved: moved.n,
      outbox: outbox.n,
      fan: (await balancesOf(db, [fanId])).get(fanId),
      revenue: await revenueOf(db, brandId),
      stock: await redis.get(k.stock),
      fans: await redis.hgetall(k.fans),
      // The sale's money and units (the worker's jobs move other counters, e.g. resPending).
      stats: await redis.hmget(k.stats, 'paid', 'refunded', 'revenueMinor', 'referralRewardsMinor'),
      refunding: await redis.zcard(k.refunding),
    };
  }

  async function declines(orderId: string) {
    return (await db.query(
      `SELECT attempt::bigint AS attempt, amount_minor::int AS amount, short_minor::int AS short
       FROM wallet.refund_declines WHERE order_id = $1 ORDER BY attempt`,
      [orderId],
    )) as { attempt: string; amount: number; short: number }[];
  }

  const audit = async (dropId: string) =>
    (await runAudit(inventory, new LedgerFacts(db), [dropId])).breaches;

  it('402 INSUFFICIENT_FUNDS in the error shape; the order paid again; no transfer, no stats, no unit freed; the decline recorded', async () => {
    const { brandId, brand, drop, referrer, order } = await brandWithoutRevenue();
    const before = await footprint(order.id, drop.id, brandId, referrer);
    const res = await refund(order.id, brand);
    expect(res.status).toBe(402);
    expect(res.body).toEqual({ error: 'INSUFFICIENT_FUNDS', message: expect.any(String) });
    expect(await footprint(order.id, drop.id, brandId, referrer)).toEqual(before);
    expect(await declines(order.id)).toEqual([
      { attempt: expect.any(String), amount: PRICE, short: PRICE },
    ]);
    const seen = await api<OrderBody>('GET', `/v1/orders/${order.id}`, {
      token: tokenFor('fan', referrer),
    });
    expect(seen.body).toMatchObject({ status: 'paid' });
    expect(await audit(drop.id)).toEqual([]);

    // A refund whose caller died before the wallet answered, and that no recovery reached for
    // two minutes (the drop out of the active index, which the recovery walks): the audit calls
    // it stuck. Back in the index, the recovery asks the wallet (declined) and the order is paid.
    const begun = await inventory.beginRefund(order.id, 'returned');
    expect(begun.ok).toBe(true);
    await redis.srem(DROPS_ACTIVE_KEY, drop.id);
    const longAgo = (await inventory.now()) - 120_000;
    await redis.hset(dropKeys(drop.id).order(order.id), 'refundingSince', longAgo);
    await redis.zadd(dropKeys(drop.id).refunding, longAgo, order.id);
    expect((await audit(drop.id)).map((b) => `${b.invariant} ${b.subject}: ${b.message}`)).toEqual([
      expect.stringMatching(new RegExp(`^9 order ${order.id}: refunding for 12\\d s: stuck`)),
    ]);
    await redis.sadd(DROPS_ACTIVE_KEY, drop.id);
    // This pass or the stack's own recovery job aborts it.
    await recovery.recoverOnce();
    expect(await footprint(order.id, drop.id, brandId, referrer)).toEqual(before);
    expect((await declines(order.id)).map((d) => Number(d.attempt))).toContain(longAgo);
    expect(await audit(drop.id)).toEqual([]);
  }, 120_000);

  it(`${CONCURRENT} refunds racing the refund recovery: every one 402, the order paid, nothing moved; a decline the recovery meets after the brand is funded stays declined; a new refund then succeeds once`, async () => {
    const { brandId, brand, drop, referrer, later, order } = await brandWithoutRevenue();
    const before = await footprint(order.id, drop.id, brandId, referrer);
    let racing = true;
    const passes = (async () => {
      let aborted = 0;
      while (racing) aborted += (await recovery.recoverOnce(0)).aborted;
      return aborted;
    })();
    const answers = await Promise.all(
      Array.from({ length: CONCURRENT }, () => refund(order.id, brand)),
    );
    racing = false;
    await passes;
    expect(answers.map((a) => `${a.status} ${errorOf(a)}`)).toEqual(
      answers.map(() => '402 INSUFFICIENT_FUNDS'),
    );
    expect(await footprint(order.id, drop.id, brandId, referrer)).toEqual(before);
    expect((await declines(order.id)).length).toBeGreaterThanOrEqual(1);

    // The interleaving an abort keyed by the order alone would get wrong: the wallet declines an
    // attempt, the brand is funded, the recovery asks that attempt again before its caller aborts.
    const begun = await inventory.beginRefund(order.id, 'returned');
    const attempt = begun.ok ? begun.value.order.refundingSince : undefined;
    if (attempt === undefined) throw new Error('begin_refund gave no attempt');
    expect((await wallet.refund({ orderId: order.id, attempt })).outcome).toBe('declined');
    await fund([later], PRICE);
    const funding = await grabVia(drop.id, tokenFor('fan', later), { quantity: 1 });
    expect((await pay(funding.body.id, later)).status).toBe(200);
    expect(await revenueOf(db, brandId)).toBe(PRICE);
    // (Other refunds under way on the stack may be in the pass too.)
    expect((await recovery.recoverOnce(0)).aborted).toBeGreaterThanOrEqual(1);
    expect((await inventory.abortRefund(order.id, attempt)).ok).toBe(true);
    expect((await inventory.getOrder(order.id))?.status).toBe('paid');
    expect(await revenueOf(db, brandId)).toBe(PRICE);
    expect((await balancesOf(db, [referrer])).get(referrer)).toBe(0);

    // Funded now: a new refund (a new attempt) pays the fan, once, however raced.
    racing = true;
    const again = (async () => {
      while (racing) await recovery.recoverOnce(0);
    })();
    const paidBack = await Promise.all(
      Array.from({ length: CONCURRENT }, () => refund(order.id, brand)),
    );
    racing = false;
    await again;
    expect(paidBack.map((a) => a.status)).toEqual(paidBack.map(() => 200));
    expect(paidBack.every((a) => a.body.status === 'refunded')).toBe(true);
    const [refunds] = (await db.query(
      `SELECT count(*)::int AS n FROM wallet.transfers WHERE kind = 'refund' AND order_id = $1`,
      [order.id],
    )) as { n: number }[];
    expect(refunds.n).toBe(1);
    expect((await balancesOf(db, [referrer])).get(referrer)).toBe(PRICE);
    expect(await revenueOf(db, brandId)).toBe(0);
    expect((await inventory.counters(drop.id)).refunded).toBe(2);
    expect(await audit(drop.id)).toEqual([]);
  }, 180_000);
});
