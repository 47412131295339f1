import { OutboxStreamFields } from '@flashdrop/events';
import type { RedisClient } from '@flashdrop/persistence';
import {
  createOpenDrop,
  heldOrder,
  redisNow,
  SaleRedisFixture,
  slotPort,
  soakRounds,
  uniqueId,
} from '@flashdrop/testing';
import { BadRecordError } from './bad-record';
import { dropKeys } from './keys';
import { DrawSteps, DropDefinition, Inventory } from './index';

/**
 * Campaigns in the scripts (docs/api.md "Campaigns"): members-only drops (audienceTier, checked in
 * the same atomic step as every other check of reserve, grab and the waitlist) and repost for a
 * discount (the share record, read by every step that makes a hold). A Redis of this test's own:
 * no worker trims or reads its streams, so every event and every key can be compared.
 */
describe('campaigns: members-only and the share discount (Lua scripts on the real Redis)', () => {
  const own = new SaleRedisFixture({ port: slotPort(6371), clientCount: 6 });
  let redis: RedisClient;
  let inventory: Inventory;
  let clients: Inventory[];

  beforeAll(async () => {
    ({ redis, inventory, clients } = await own.open());
  }, 30_000);
  afterAll(() => own.close());

  const newDrop = (overrides: Partial<DropDefinition> = {}) => createOpenDrop(inventory, overrides);

  const held = (dropId: string, fanId: string, quantity = 1, tier?: string) =>
    heldOrder(inventory, { dropId, fanId, quantity, tier });

  async function events(dropId: string) {
    const entries = await redis.xrange(dropKeys(dropId).events, '-', '+');
    return entries.map(([id, flat]) => {
      const f: Record<string, string> = {};
      for (let i = 0; i < flat.length; i += 2) f[flat[i]] = flat[i + 1];
      return {
        id,
        type: f[OutboxStreamFields.type],
        data: JSON.parse(f[OutboxStreamFields.data]) as Record<string, unknown>,
      };
    });
  }

  /** Every key of the drop (everything under its hash tag) with its whole content. */
  async function snapshot(dropId: string) {
    const keys = (await redis.keys(`{d:${dropId}}:*`)).sort();
    const out: Record<string, unknown> = {};
    for (const key of keys) {
      const type = await redis.type(key);
      if (type === 'string') out[key] = await redis.get(key);
      else if (type === 'hash') out[key] = await redis.hgetall(key);
      else if (type === 'set') out[key] = (await redis.smembers(key)).sort();
      else if (type === 'zset') out[key] = await redis.zrange(key, 0, -1, 'WITHSCORES');
      else if (type === 'list') out[key] = await redis.lrange(key, 0, -1);
      else if (type === 'stream') out[key] = await redis.xrange(key, '-', '+');
      else throw new Error(`unexpected ${type} at ${key}`);
    }
    return out;
  }

  /**
   * A snapshot without what a grab's refusal is allowed to write, later and in aggregate: the
   * per-process RefusalTally's `attempts`, `rej:<CODE>`, grab.rejected entries and the receipt of
   * each of its runs (libs/inventory README "Why Redis and Lua").
   */
  function withoutRefusalCounts(snap: Record<string, unknown>, dropId: string) {
    const k = dropKeys(dropId);
    snap = Object.fromEntries(Object.entries(snap).filter(([key]) => !key.includes(':rcpt:')));
    const stats = { ...((snap[k.stats] as Record<string, string> | undefined) ?? {}) };
    for (const field of Object.keys(stats)) {
      if (field === 'attempts' || field.startsWith('rej:')) delete stats[field];
    }
    const stream = (snap[k.events] as [string, string[]][] | undefined) ?? [];
    return {
      ...snap,
      [k.stats]: stats,
      [k.events]: stream.filter(([, flat]) => !flat.includes('grab.rejected')),
    };
  }

  describe('members-only (audienceTier)', () => {
    it('admits a fan of the tier to reserve, grab and the waitlist', async () => {
      const def = await newDrop({ quantity: 1, audienceTier: 'gold', reservationRequired: true });
      expect(await inventory.reserve(def.id, 'm1', undefined, 'gold')).toMatchObject({ ok: true });
      expect((await held(def.id, 'm1', 1, 'gold')).status).toBe('held');
      expect(await inventory.reserve(def.id, 'm2', undefined, 'gold')).toMatchObject({ ok: true });
      expect(await inventory.joinWaitlist(def.id, 'm2', 'gold')).toMatchObject({
        ok: true,
        value: { position: 1, created: true },
      });
    });

    it('refuses every other fan with MEMBERS_ONLY, writing nothing (every key of the drop compared)', async () => {
      const def = await newDrop({ quantity: 1, audienceTier: 'gold', reservationRequired: true });
      await inventory.reserve(def.id, 'member', undefined, 'gold');
      await held(def.id, 'member', 1, 'gold'); // sold out: the waitlist would take a member
      // A fan who reserved as a member and whose token no longer carries the tier.
      await inventory.reserve(def.id, 'lapsed', undefined, 'gold');
      for (const [fan, tier] of [
        ['outsider', undefined],
        ['silver-fan', 'silver'],
        ['prefix-fan', 'gol'],
        ['lapsed', undefined],
        ['lapsed', 'silver'],
      ] as const) {
        const before = await snapshot(def.id);
        expect(await inventory.reserve(def.id, fan, 'member', tier)).toEqual({
          ok: false,
          code: 'MEMBERS_ONLY',
        });
        expect(await inventory.joinWaitlist(def.id, fan, tier)).toEqual({
          ok: false,
          code: 'MEMBERS_ONLY',
        });
        expect(await snapshot(def.id)).toEqual(before);
        expect(await inventory.grab({ dropId: def.id, fanId: fan, quantity: 1, tier })).toEqual({
          ok: false,
          code: 'MEMBERS_ONLY',
        });
        await inventory.refusals.flush();
        expect(withoutRefusalCounts(await snapshot(def.id), def.id)).toEqual(
          withoutRefusalCounts(before, def.id),
        );
      }
      // The refusals were counted (in aggregate), as every grab refusal is.
      expect((await inventory.counters(def.id)).rejections.MEMBERS_ONLY).toBe(5);
    });

    it('decides before the sale checks: an outsider learns MEMBERS_ONLY, not SOLD_OUT or NOT_RESERVED', async () => {
      const def = await newDrop({ quantity: 1, audienceTier: 'vip', reservationRequired: true });
      expect(await inventory.grab({ dropId: def.id, fanId: 'o', quantity: 1 })).toMatchObject({
        code: 'MEMBERS_ONLY',
      });
      expect(
        await inventory.grab({ dropId: def.id, fanId: 'o', quantity: 1, tier: 'vip' }),
      ).toMatchObject({
        code: 'NOT_RESERVED',
      });
    });

    it('a drop without a tier admits every fan, with or without one', async () => {
      const def = await newDrop({ quantity: 2 });
      expect((await held(def.id, 'plain')).status).toBe('held');
      expect((await held(def.id, 'tiered', 1, 'gold')).status).toBe('held');
    });
  });

  describe('repost for a discount (shareDiscountMinor)', () => {
    const PRICE = 199_900;
    const DISCOUNT = 10_000;

    it('a fan who shared first pays priceMinor - shareDiscountMinor per unit; one who did not, the price', async () => {
      const def = await newDrop({ perUserLimit: 3, shareDiscountMinor: DISCOUNT });
      expect((await inventory.share(def.id, 'sharer', 'weibo')).ok).toBe(true);
      const discounted = await held(def.id, 'sharer', 3);
      expect(discounted).toMatchObject({
        quantity: 3,
        unitPriceMinor: PRICE - DISCOUNT,
        discountMinor: 3 * DISCOUNT,
        amountMinor: 3 * (PRICE - DISCOUNT),
      });
      const full = await held(def.id, 'stranger', 2);
      expect(full).toMatchObject({
        unitPriceMinor: PRICE,
        discountMinor: 0,
        amountMinor: 2 * PRICE,
      });
      // A share after the hold does not change it: the hold's step decided its price.
      await inventory.share(def.id, 'stranger', 'wechat');
      expect(await inventory.getOrder(full.id)).toMatchObject({ amountMinor: 2 * PRICE });
      // ... but counts for the fan's next hold.
      expect(await held(def.id, 'stranger', 1)).toMatchObject({ discountMinor: DISCOUNT });
      const accepted = (await events(def.id)).filter((e) => e.type === 'grab.accepted');
      expect(accepted.map((e) => e.data.discountMinor)).toEqual([
        3 * DISCOUNT,
        undefined,
        DISCOUNT,
      ]);
    });

    it("counts a fan's shares once: ten shares, one discount per unit", async () => {
      const def = await newDrop({ perUserLimit: 2, shareDiscountMinor: DISCOUNT });
      for (let i = 0; i < 10; i++) await inventory.share(def.id, 'eager', `ch${i % 3}`);
      expect(await held(def.id, 'eager', 2)).toMatchObject({
        unitPriceMinor: PRICE - DISCOUNT,
        discountMinor: 2 * DISCOUNT,
      });
      expect((await inventory.counters(def.id)).shares).toBe(10);
      expect(await redis.scard(dropKeys(def.id).sharers)).toBe(1);
    });

    it('a drop without a discount prices every hold at priceMinor, shared or not', async () => {
      const def = await newDrop({ quantity: 5 });
      await inventory.share(def.id, 'fan', 'weibo');
      expect(await held(def.id, 'fan')).toMatchObject({ unitPriceMinor: PRICE, discountMinor: 0 });
    });

    it('a unit passed down the waitlist is priced for the fan it goes to', async () => {
      const def = await newDrop({ quantity: 2, shareDiscountMinor: DISCOUNT });
      const a = await held(def.id, 'holder-a');
      const b = await held(def.id, 'holder-b');
      await inventory.share(def.id, 'waiting-sharer', 'weibo');
      await inventory.joinWaitlist(def.id, 'waiting-sharer');
      await inventory.joinWaitlist(def.id, 'waiting-plain');
      await inventory.cancelOrder(a.id);
      await inventory.cancelOrder(b.id);
      const passed = (await events(def.id)).filter((e) => e.type === 'hold.backfilled');
      expect(passed.map((e) => [e.data.fanId, e.data.amountMinor, e.data.discountMinor])).toEqual([
        ['waiting-sharer', PRICE - DISCOUNT, DISCOUNT],
        ['waiting-plain', PRICE, undefined],
      ]);
      for (const e of passed) {
        expect(await inventory.getOrder(String(e.data.orderId))).toMatchObject({
          amountMinor: e.data.amountMinor,
          discountMinor: e.data.discountMinor ?? 0,
        });
      }
    });

    it("a draw winner's hold is priced from the share record too", async () => {
      const now = await redisNow(redis);
      const def = await newDrop({
        quantity: 2,
        allocation: 'draw',
        reservationRequired: true,
        reservationOpensAt: now - 60_000,
        reservationClosesAt: now - 1_000,
        shareDiscountMinor: DISCOUNT,
      });
      await inventory.share(def.id, 'w-sharer', 'weibo');
      const steps = new DrawSteps(redis);
      const committed = await steps.commit(def.id, {
        seed: 'seed',
        seedCommitment: 'commitment',
        entrants: 2,
        entrantsDigest: 'digest',
      });
      expect(committed.ok).toBe(true);
      expect(await steps.placeWinners(def.id, 0, ['w-sharer', 'w-plain'])).toEqual({
        ok: true,
        value: 2,
      });
      const won = (await events(def.id)).filter((e) => e.type === 'draw.won');
      expect(won.map((e) => [e.data.fanId, e.data.amountMinor])).toEqual([
        ['w-sharer', PRICE - DISCOUNT],
        ['w-plain', PRICE],
      ]);
    });

    it('paid orders carry their discount into revenue and stats, to the fen', async () => {
      const def = await newDrop({ quantity: 10, shareDiscountMinor: DISCOUNT });
      const fans = Array.from({ length: 10 }, (_, i) => `payer-${i}`);
      for (const [i, fan] of fans.entries())
        if (i % 2 === 0) await inventory.share(def.id, fan, 'weibo');
      const orders = await Promise.all(fans.map((f) => held(def.id, f)));
      for (const o of orders) {
        expect((await inventory.beginPayment(o.id)).ok).toBe(true);
        expect((await inventory.completePayment(o.id)).ok).toBe(true);
      }
      const c = await inventory.counters(def.id);
      expect(c.revenueMinor).toBe(5 * PRICE + 5 * (PRICE - DISCOUNT));
      expect(c.discountsMinor).toBe(5 * DISCOUNT);
      const paid = (await events(def.id)).filter((e) => e.type === 'order.paid');
      expect(paid.reduce((sum, e) => sum + Number(e.data.amountMinor), 0)).toBe(c.revenueMinor);
    });

    it('a share racing a grab counts for the whole hold or not at all: discounted exactly when the share came first', async () => {
      for (let round = 0; round < soakRounds(); round++) {
        const fans = Array.from({ length: 300 }, (_, i) => `racer-${round}-${i}`);
        const def = await newDrop({ quantity: 600, perUserLimit: 2, shareDiscountMinor: DISCOUNT });
        // Each fan's share and grab leave at once on different connections: either may win.
        const outcomes = await Promise.all(
          fans.map(async (fan, i) => {
            const [, grabbed] = await Promise.all([
              clients[i % clients.length].share(def.id, fan, 'weibo'),
              clients[(i + 1) % clients.length].grab({ dropId: def.id, fanId: fan, quantity: 2 }),
            ]);
            if (!grabbed.ok) throw new Error(`grab refused: ${grabbed.code}`);
            return grabbed.order;
          }),
        );
        const stream = await events(def.id);
        const sharedAt = new Map<string, number>();
        stream.forEach((e, i) => {
          if (e.type === 'share.recorded') sharedAt.set(String(e.data.fanId), i);
        });
        const grabbedAt = new Map<string, number>();
        stream.forEach((e, i) => {
          if (e.type === 'grab.accepted') grabbedAt.set(String(e.data.fanId), i);
        });
        let discounted = 0;
        for (const o of outcomes) {
          const shareFirst = sharedAt.get(o.fanId)! < grabbedAt.get(o.fanId)!;
          const expected = shareFirst
            ? { unitPriceMinor: PRICE - DISCOUNT, discountMinor: 2 * DISCOUNT }
            : { unitPriceMinor: PRICE, discountMinor: 0 };
          expect(o).toMatchObject({ ...expected, amountMinor: 2 * expected.unitPriceMinor });
          expect(await inventory.getOrder(o.id)).toMatchObject(expected);
          if (shareFirst) discounted++;
        }
        // Both orders happened (a race with only one outcome would prove nothing).
        expect(discounted).toBeGreaterThan(0);
        expect(discounted).toBeLessThan(fans.length);
      }
    }, 120_000);

    it('costs at most 100 bytes of Redis per sharing fan (20,000 fans)', async () => {
      const def = await newDrop();
      const fans = Array.from({ length: 20_000 }, () => uniqueId('fan'));
      for (let i = 0; i < fans.length; i += 500) {
        await Promise.all(
          fans
            .slice(i, i + 500)
            .map((f, j) => clients[j % clients.length].share(def.id, f, 'weibo')),
        );
      }
      const bytes = Number(
        await redis.call('MEMORY', 'USAGE', dropKeys(def.id).sharers, 'SAMPLES', '0'),
      );
      const perFan = bytes / fans.length;
      console.log(`share record: ${perFan.toFixed(1)} bytes per sharing fan (fan ids of 16 chars)`);
      expect(perFan).toBeLessThanOrEqual(100);
    }, 120_000);
  });

  describe('referral rewards (referralRewardMinor)', () => {
    const PRICE = 199_900;
    const DISCOUNT = 10_000;
    const REWARD = 5_000;

    async function referred(dropId: string, fanId: string, referrerId: string) {
      expect((await inventory.reserve(dropId, fanId, referrerId)).ok).toBe(true);
    }

    it('records only a referred reservation, with its first referrer, never the fan', async () => {
      const def = await newDrop({ priceMinor: PRICE, referralRewardMinor: REWARD });
      await referred(def.id, 'r-fan', 'r-friend');
      await referred(def.id, 'r-fan', 'r-someone-else');
      await referred(def.id, 'r-self', 'r-self');
      expect((await inventory.reserve(def.id, 'r-plain')).ok).toBe(true);
      expect(await redis.hgetall(dropKeys(def.id).referrers)).toEqual({ 'r-fan': 'r-friend' });
    });

    it('a grab, a unit passed down the waitlist and a draw win each owe the referrer of the fan they go to', async () => {
      const def = await newDrop({ quantity: 2, priceMinor: PRICE, referralRewardMinor: REWARD });
      await referred(def.id, 'g-referred', 'g-friend');
      const grabbed = await held(def.id, 'g-referred');
      expect(grabbed).toMatchObject({ referrerId: 'g-friend', rewardMinor: REWARD });
      const plain = await held(def.id, 'g-plain');
      expect(plain.referrerId).toBeUndefined();

      await referred(def.id, 'w-referred', 'w-friend');
      await inventory.joinWaitlist(def.id, 'w-referred');
      await inventory.cancelOrder(plain.id);
      const [passed] = (await events(def.id)).filter((e) => e.type === 'hold.backfilled');
      expect(await inventory.getOrder(String(passed.data.orderId))).toMatchObject({
        fanId: 'w-referred',
        referrerId: 'w-friend',
        rewardMinor: REWARD,
      });

      const now = await redisNow(redis);
      const draw = await newDrop({
        quantity: 2,
        allocation: 'draw',
        reservationRequired: true,
        reservationOpensAt: now - 60_000,
        reservationClosesAt: now + 2_000,
        saleStartsAt: now + 2_000,
        priceMinor: PRICE,
        referralRewardMinor: REWARD,
      });
      await referred(draw.id, 'd-referred', 'd-friend');
      // The draw is committed only once reservations have closed (commit_draw NOT_CLOSED).
      const closesIn = now + 2_000 - (await redisNow(redis));
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, closesIn) + 50));
      const steps = new DrawSteps(redis);
      const committed = await steps.commit(draw.id, {
        seed: 'seed',
        seedCommitment: 'commitment',
        entrants: 2,
        entrantsDigest: 'digest',
      });
      expect(committed.ok).toBe(true);
      expect((await steps.placeWinners(draw.id, 0, ['d-referred', 'd-plain'])).ok).toBe(true);
      const won = (await events(draw.id)).filter((e) => e.type === 'draw.won');
      const orders = await Promise.all(won.map((e) => inventory.getOrder(String(e.data.orderId))));
      expect(orders.map((o) => [o?.fanId, o?.referrerId, o?.rewardMinor])).toEqual([
        ['d-referred', 'd-friend', REWARD],
        ['d-plain', undefined, undefined],
      ]);
    });

    it('a paid order announces its reward and counts it once; its refund takes it out of the stats', async () => {
      const def = await newDrop({
        quantity: 4,
        priceMinor: PRICE,
        shareDiscountMinor: DISCOUNT,
        referralRewardMinor: REWARD,
      });
      await referred(def.id, 'p-referred', 'p-friend');
      const o = await held(def.id, 'p-referred');
      expect((await inventory.beginPayment(o.id)).ok).toBe(true);
      expect((await inventory.completePayment(o.id)).ok).toBe(true);
      expect((await inventory.completePayment(o.id)).ok).toBe(true);
      expect((await inventory.counters(def.id)).referralRewardsMinor).toBe(REWARD);
      const paid = (await events(def.id)).filter((e) => e.type === 'order.paid');
      expect(paid.map((e) => e.data)).toEqual([
        expect.objectContaining({ orderId: o.id, referrerId: 'p-friend', rewardMinor: REWARD }),
      ]);
      expect((await inventory.beginRefund(o.id, 'damaged')).ok).toBe(true);
      expect((await inventory.completeRefund(o.id)).ok).toBe(true);
      expect((await inventory.counters(def.id)).referralRewardsMinor).toBe(0);
      const [refunded] = (await events(def.id)).filter((e) => e.type === 'order.refunded');
      expect(refunded.data.rewardMinor).toBe(REWARD);
    });

    it('a drop whose reward is past price - discount is BAD_RECORD for a grab, writing nothing', async () => {
      const def = await newDrop({
        priceMinor: PRICE,
        shareDiscountMinor: DISCOUNT,
        referralRewardMinor: REWARD,
      });
      await referred(def.id, 'b-referred', 'b-friend');
      await redis.hset(dropKeys(def.id).drop, 'referralRewardMinor', PRICE - DISCOUNT + 1);
      const before = await snapshot(def.id);
      await expect(
        inventory.grab({ dropId: def.id, fanId: 'b-referred', quantity: 1 }),
      ).rejects.toThrow(BadRecordError);
      expect(await snapshot(def.id)).toEqual(before);
    });
  });
});
