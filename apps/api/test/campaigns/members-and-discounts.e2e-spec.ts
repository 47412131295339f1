import { runAudit } from '@flashdrop/audit';
import { Inventory } from '@flashdrop/inventory';
import { LedgerFacts } from '@flashdrop/ledger';
import {
  api,
  balancesOf,
  closeStackConnections,
  createDrop,
  debitsOf,
  dropBody,
  dropKeys,
  errorOf,
  eventually,
  fanIds,
  fund,
  grabVia,
  isoIn,
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

/**
 * Members-only drops and repost for a discount through the running stack (docs/api.md
 * "Campaigns"): the drop's fields checked at the border, the tier of the token checked by the
 * scripts, the share discount decided by the hold's step and carried through the payment into
 * the ledger, the revenue and the stats to the fen.
 */
describe('campaigns: members-only drops and repost for a discount', () => {
  let redis: RedisClient;
  let inventory: Inventory;
  let db: DataSource;

  beforeAll(async () => ({ redis, inventory, db } = await openStackConnections()));
  afterAll(() => closeStackConnections({ redis, db }));

  describe('the drop fields', () => {
    it('shows audienceTier and shareDiscountMinor (default 0), and takes them in a PATCH before the lock', async () => {
      const brand = tokenFor('brand', uniqueId('brand'));
      // Reservations open later: the drop can still be edited.
      const unlocked = {
        reservationOpensAt: isoIn(600_000),
        reservationClosesAt: isoIn(1_200_000),
      };
      const plain = await createDrop(dropBody(unlocked), brand);
      expect(plain).toMatchObject({ shareDiscountMinor: 0 });
      expect(plain.audienceTier).toBeUndefined();
      const drop = await createDrop(
        dropBody({ audienceTier: 'gold', shareDiscountMinor: 500, priceMinor: 1_000 }),
        brand,
      );
      expect(drop).toMatchObject({ audienceTier: 'gold', shareDiscountMinor: 500 });
      const res = await api('PATCH', `/v1/drops/${plain.id}`, {
        token: brand,
        body: { audienceTier: 'vip_2', shareDiscountMinor: 199_899 },
      });
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ audienceTier: 'vip_2', shareDiscountMinor: 199_899 });
    });

    it.each([
      ['audienceTier upper-case', { audienceTier: 'Gold' }, 'audienceTier'],
      ['audienceTier empty', { audienceTier: '' }, 'audienceTier'],
      ['audienceTier of 33 chars', { audienceTier: 'a'.repeat(33) }, 'audienceTier'],
      ['audienceTier a number', { audienceTier: 7 }, 'audienceTier'],
      ['audienceTier null', { audienceTier: null }, 'audienceTier'],
      ['shareDiscountMinor negative', { shareDiscountMinor: -1 }, 'shareDiscountMinor'],
      ['shareDiscountMinor fractional', { shareDiscountMinor: 1.5 }, 'shareDiscountMinor'],
      ['shareDiscountMinor a string', { shareDiscountMinor: '5' }, 'shareDiscountMinor'],
      [
        'shareDiscountMinor = priceMinor',
        { priceMinor: 1_000, shareDiscountMinor: 1_000 },
        'shareDiscountMinor',
      ],
    ])('refuses %s with 400, creating nothing', async (_name, fields, field) => {
      const brandId = uniqueId('brand');
      const brand = tokenFor('brand', brandId);
      const res = await api<{ details?: { field: string }[] }>('POST', '/v1/drops', {
        token: brand,
        body: dropBody(fields),
      });
      expect(res.status).toBe(400);
      expect(errorOf(res)).toBe('VALIDATION_FAILED');
      expect(res.body.details?.map((d) => d.field)).toContain(field);
      expect((await api('GET', '/v1/drops', { token: brand })).body).toEqual([]);
    });

    it('refuses a PATCH whose discount would reach the price, changing nothing', async () => {
      const brand = tokenFor('brand', uniqueId('brand'));
      const drop = await createDrop(
        dropBody({ priceMinor: 1_000, shareDiscountMinor: 100 }),
        brand,
      );
      for (const body of [{ shareDiscountMinor: 1_000 }, { priceMinor: 100 }]) {
        const res = await api('PATCH', `/v1/drops/${drop.id}`, { token: brand, body });
        expect(res.status).toBe(400);
        expect(errorOf(res)).toBe('VALIDATION_FAILED');
      }
      const after = (await api('GET', `/v1/drops/${drop.id}`)).body;
      expect(after).toMatchObject({ priceMinor: 1_000, shareDiscountMinor: 100 });
      expect(await redis.hmget(dropKeys(drop.id).drop, 'priceMinor', 'shareDiscountMinor')).toEqual(
        ['1000', '100'],
      );
    });
  });

  describe('members-only', () => {
    /** What a refused reservation, grab or waitlist join could have written for the fan. */
    async function fanFootprint(dropId: string, fanId: string) {
      const k = dropKeys(dropId);
      return {
        reserved: await redis.hexists(k.reservations, fanId),
        units: await redis.hget(k.fans, fanId),
        orders: await redis.lrange(k.fanOrders(fanId), 0, -1),
        inLine: await redis.zscore(k.waitlist, fanId),
        holds: await redis.zcard(k.holds),
        stock: await redis.get(k.stock),
        line: await redis.zcard(k.waitlist),
        reservations: await redis.hlen(k.reservations),
      };
    }

    it('answers 403 MEMBERS_ONLY to a fan without the tier on reserve, grab and waitlist, writing nothing', async () => {
      const reserving = await createDrop(dropBody({ audienceTier: 'gold' }));
      const selling = await createDrop(openDropBody({ audienceTier: 'gold', quantity: 1 }));
      const member = uniqueId('member');
      const sold = await grabVia(selling.id, tokenFor('fan', member, 'gold'), { quantity: 1 });
      expect(sold.status).toBe(201);
      for (const tier of [undefined, 'silver']) {
        const fan = uniqueId('fan');
        const token = tokenFor('fan', fan, tier);
        const before = [await fanFootprint(reserving.id, fan), await fanFootprint(selling.id, fan)];
        const answers = [
          await api('POST', `/v1/drops/${reserving.id}/reservations`, { token, body: {} }),
          await grabVia(selling.id, token, { quantity: 1 }),
          await api('POST', `/v1/drops/${selling.id}/waitlist`, { token }),
        ];
        for (const res of answers) {
          expect(res.status).toBe(403);
          expect(errorOf(res)).toBe('MEMBERS_ONLY');
        }
        expect([
          await fanFootprint(reserving.id, fan),
          await fanFootprint(selling.id, fan),
        ]).toEqual(before);
        expect((await api('GET', '/v1/orders', { token })).body).toEqual([]);
      }
      // A member gets in: the reservation and the line.
      const other = tokenFor('fan', uniqueId('member'), 'gold');
      expect(
        (await api('POST', `/v1/drops/${reserving.id}/reservations`, { token: other, body: {} }))
          .status,
      ).toBe(201);
      expect((await api('POST', `/v1/drops/${selling.id}/waitlist`, { token: other })).status).toBe(
        201,
      );
    });
  });

  describe('repost for a discount', () => {
    it('every order of the drop: a sharer pays the discounted price, the ledger, revenue and stats agree to the fen', async () => {
      const brandId = uniqueId('brand');
      const drop = await createDrop(
        openDropBody({
          priceMinor: PRICE,
          shareDiscountMinor: DISCOUNT,
          quantity: 60,
          perUserLimit: 2,
        }),
        tokenFor('brand', brandId),
      );
      const fans = fanIds(30);
      await fund(fans, 10 * PRICE);
      const sharers = new Set(fans.filter((_, i) => i % 3 !== 0));
      for (const fan of sharers) {
        // Sharing twice counts once.
        for (const channel of ['weibo', 'wechat']) {
          const shared = await api('POST', `/v1/drops/${drop.id}/shares`, {
            token: tokenFor('fan', fan),
            body: { channel },
          });
          expect(shared.status).toBe(202);
        }
      }
      const orders: OrderBody[] = [];
      for (const [i, fan] of fans.entries()) {
        const res = await grabVia(drop.id, tokenFor('fan', fan), { quantity: 1 + (i % 2) });
        expect(res.status).toBe(201);
        orders.push(res.body);
      }
      for (const o of orders) {
        const unit = sharers.has(o.fanId) ? PRICE - DISCOUNT : PRICE;
        expect(o).toMatchObject({
          unitPriceMinor: unit,
          discountMinor: (PRICE - unit) * o.quantity,
          amountMinor: unit * o.quantity,
        });
        const paid = await pay(o.id, o.fanId);
        expect(paid.status).toBe(200);
        expect(paid.body).toMatchObject({ status: 'paid', amountMinor: unit * o.quantity });
      }
      const debits = await debitsOf(
        db,
        orders.map((o) => o.id),
      );
      const balances = await balancesOf(db, fans);
      for (const o of orders) {
        expect(debits.get(o.id)).toEqual({ count: 1, amount: o.amountMinor });
        expect(balances.get(o.fanId)).toBe(10 * PRICE - o.amountMinor);
      }
      const revenue = orders.reduce((sum, o) => sum + o.amountMinor, 0);
      const discounts = orders.reduce((sum, o) => sum + Number(o.discountMinor), 0);
      expect(discounts).toBeGreaterThan(0);
      expect(await revenueOf(db, brandId)).toBe(revenue);
      const counters = await inventory.counters(drop.id);
      expect(counters.revenueMinor).toBe(revenue);
      expect(counters.discountsMinor).toBe(discounts);
      const operator = tokenFor('operator');
      const statsAgree = await eventually(async () => {
        const stats = await api<{ revenueMinor: number; paid: number }>(
          'GET',
          `/v1/drops/${drop.id}/stats`,
          { token: operator },
        );
        return stats.body.revenueMinor === revenue;
      }, 20_000);
      expect(statsAgree).toBe(true);
      // The durable copy of each order keeps its price.
      const stored = await eventually(async () => {
        const rows = (await db.query(
          `SELECT id, unit_price_minor::int AS unit, discount_minor::int AS discount
             FROM sales.orders WHERE drop_id = $1 AND status = 'paid'`,
          [drop.id],
        )) as { id: string; unit: number; discount: number }[];
        if (rows.length < orders.length) return false;
        for (const o of orders) {
          expect(rows.find((r) => r.id === o.id)).toEqual({
            id: o.id,
            unit: o.unitPriceMinor,
            discount: o.discountMinor,
          });
        }
        return true;
      }, 20_000);
      expect(stored).toBe(true);
      const fetched = await api<OrderBody>('GET', `/v1/orders/${orders[1].id}`, {
        token: tokenFor('fan', orders[1].fanId),
      });
      expect(fetched.body).toMatchObject({
        unitPriceMinor: orders[1].unitPriceMinor,
        discountMinor: orders[1].discountMinor,
      });
      const audit = await runAudit(inventory, new LedgerFacts(db), [drop.id]);
      expect(audit.breaches).toEqual([]);
    }, 120_000);
  });
});
