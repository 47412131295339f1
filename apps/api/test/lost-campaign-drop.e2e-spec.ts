import { isDeepStrictEqual } from 'node:util';
import { Inventory } from '@flashdrop/inventory';
import type { RedisClient } from '@flashdrop/persistence';
import {
  api,
  auditWithRecords,
  balancesOf,
  closeStackConnections,
  createDrop,
  dropKeys,
  eventually,
  fanIds,
  fund,
  getDrop,
  grabVia,
  loseDrop,
  openDropBody,
  openStackConnections,
  OrderBody,
  pay,
  revenueOf,
  tokenFor,
  uniqueId,
} from '@flashdrop/testing';
import { DataSource } from 'typeorm';

const PRICE = 5_000;
const DISCOUNT = 500;
const REWARD = 300;

interface GroupBody {
  groupId: string;
  size: number;
  members: number;
  paidMembers: number;
  expiresAt: string;
  status: string;
}
type Grab = OrderBody & { groupId?: string; error?: string };

/**
 * A lost drop's campaign state comes back from PostgreSQL (issue 11): group buy's groups (from
 * their member orders, which now keep their group and when they reached the escrow), the share
 * record (an order with the share discount proves its fan shared) and the referrers (an order
 * that pays a reward names its fan's referrer), and what a hold decided (its referrer and
 * reward, its group) with each order. Through the running stack: its worker persists the
 * orders, settles groups and pays rewards.
 */
describe('a lost drop comes back with its groups, its share record and its referrers', () => {
  let redis: RedisClient;
  let inventory: Inventory;
  let db: DataSource;

  beforeAll(async () => ({ redis, inventory, db } = await openStackConnections()));
  afterAll(() => closeStackConnections({ redis, inventory, db }));

  /** Every order of the drop is stored in PostgreSQL as Redis holds it now. */
  async function persisted(dropId: string, statuses: Record<string, string>) {
    const stored = async () => {
      const rows = (await db.query('SELECT id, status FROM sales.orders WHERE drop_id = $1', [
        dropId,
      ])) as { id: string; status: string }[];
      return Object.fromEntries(rows.map((r) => [r.id, r.status]));
    };
    const same = await eventually(
      // Compared as sets of (id, status): PostgreSQL returns the rows in no promised order.
      async () => isDeepStrictEqual(await stored(), statuses),
      20_000,
      200,
    );
    expect(await stored()).toEqual(statuses);
    expect(same).toBe(true);
  }
  const audit = (dropId: string) => auditWithRecords({ inventory, db }, [dropId]);
  const group = async (dropId: string, groupId: string) =>
    (await api<GroupBody>('GET', `/v1/drops/${dropId}/groups/${groupId}`)).body;
  const join = async (dropId: string, fan: string, groupId?: string) => {
    const res = await grabVia(dropId, tokenFor('fan', fan), groupId ? { groupId } : {});
    expect(res.status).toBe(201);
    return res.body as Grab;
  };
  const orderOf = async (orderId: string, fan: string) =>
    (await api<OrderBody>('GET', `/v1/orders/${orderId}`, { token: tokenFor('fan', fan) })).body;

  it('group buy: every group comes back as its members left it (complete, open with money in the escrow, open with a free seat), and each settles as it would have', async () => {
    const brandId = uniqueId('brand');
    const drop = await createDrop(
      openDropBody({ priceMinor: PRICE, quantity: 10, perUserLimit: 1, groupSize: 2 }),
      tokenFor('brand', brandId),
    );
    const fans = fanIds(6);
    await fund(fans, PRICE);
    // complete: both members paid.
    const c1 = await join(drop.id, fans[0]);
    const c2 = await join(drop.id, fans[1], c1.groupId);
    expect((await pay(c1.id, fans[0])).body.status).toBe('grouped');
    expect((await pay(c2.id, fans[1])).body.status).toBe('paid');
    // open: one member's money in the escrow, the other's hold open.
    const o1 = await join(drop.id, fans[2]);
    const o2 = await join(drop.id, fans[3], o1.groupId);
    expect((await pay(o1.id, fans[2])).body.status).toBe('grouped');
    // open, its one member gone: a free seat.
    const f1 = await join(drop.id, fans[4]);
    expect(
      (await api('POST', `/v1/orders/${f1.id}/cancel`, { token: tokenFor('fan', fans[4]) })).status,
    ).toBe(200);
    await persisted(drop.id, {
      [c1.id]: 'paid',
      [c2.id]: 'paid',
      [o1.id]: 'grouped',
      [o2.id]: 'held',
      [f1.id]: 'cancelled',
    });
    const ids = [c1.groupId!, o1.groupId!, f1.groupId!];
    const before = await Promise.all(ids.map((id) => group(drop.id, id)));
    expect(before.map((g) => g.status)).toEqual(['complete', 'open', 'open']);
    const SALE_COUNTS = ['paid', 'held', 'grouped', 'escrowMinor', 'revenueMinor'];
    const counts = () => redis.hmget(dropKeys(drop.id).stats, ...SALE_COUNTS);
    const countsBefore = await counts();
    expect(countsBefore).toEqual(['2', '1', '1', String(PRICE), String(2 * PRICE)]);

    await loseDrop(redis, drop.id);
    const rebuilt = await getDrop(drop.id);
    // Paid, grouped and held units stay taken: 10 - 4.
    expect(rebuilt).toMatchObject({ remaining: 6, phase: 'on_sale' });
    expect(await Promise.all(ids.map((id) => group(drop.id, id)))).toEqual(before);
    expect(await counts()).toEqual(countsBefore);
    expect(await redis.zrange(dropKeys(drop.id).groups, 0, -1)).toEqual(
      expect.arrayContaining([o1.groupId, f1.groupId]),
    );

    // The open group completes with its last payment: both members paid, the escrow released.
    const last = await pay(o2.id, fans[3]);
    expect(last.body.status).toBe('paid');
    expect((await orderOf(o1.id, fans[2])).status).toBe('paid');
    expect(await group(drop.id, o1.groupId!)).toMatchObject({ status: 'complete', paidMembers: 2 });
    expect(await revenueOf(db, brandId)).toBe(4 * PRICE);
    // The freed seat takes a new member.
    expect((await join(drop.id, fans[5], f1.groupId)).groupId).toBe(f1.groupId);
    expect(await group(drop.id, f1.groupId!)).toMatchObject({ members: 1, status: 'open' });

    const report = await audit(drop.id);
    expect(report.breaches).toEqual([]);
    expect(report.notices).toEqual([
      { subject: `drop ${drop.id}`, message: expect.stringMatching(/not rebuilt: waitlist$/) },
    ]);
  }, 90_000);

  it("referrals and the share discount: a rebuilt hold still rewards its fan's referrer when paid, and the fan's next hold is discounted and rewarding as before", async () => {
    const brandId = uniqueId('brand');
    const drop = await createDrop(
      openDropBody({
        priceMinor: PRICE,
        shareDiscountMinor: DISCOUNT,
        referralRewardMinor: REWARD,
        quantity: 10,
        perUserLimit: 2,
      }),
      tokenFor('brand', brandId),
    );
    const [fan, referrer] = fanIds(2);
    await fund([fan], 2 * PRICE);
    const token = tokenFor('fan', fan);
    const reserved = await api('POST', `/v1/drops/${drop.id}/reservations`, {
      token,
      body: { referrerId: referrer },
    });
    expect(reserved.status).toBe(201);
    const shared = await api('POST', `/v1/drops/${drop.id}/shares`, {
      token,
      body: { channel: 'wechat' },
    });
    expect(shared.status).toBe(202);
    const first = await join(drop.id, fan);
    expect(first.amountMinor).toBe(PRICE - DISCOUNT);
    await persisted(drop.id, { [first.id]: 'held' });

    await loseDrop(redis, drop.id);
    // The drop still takes reservations (no window, its sale not over): not paused; what
    // nothing proves (who else shared or was referred) is named.
    expect((await getDrop(drop.id)).phase).toBe('on_sale');
    const k = dropKeys(drop.id);
    expect(await redis.hget(k.referrers, fan)).toBe(referrer);
    expect(await redis.sismember(k.sharers, fan)).toBe(1);

    expect((await pay(first.id, fan)).body.status).toBe('paid');
    expect((await balancesOf(db, [referrer])).get(referrer)).toBe(REWARD);
    const second = await join(drop.id, fan);
    expect(second.amountMinor).toBe(PRICE - DISCOUNT);
    expect((await pay(second.id, fan)).body.status).toBe('paid');
    expect((await balancesOf(db, [referrer])).get(referrer)).toBe(2 * REWARD);
    expect(await revenueOf(db, brandId)).toBe(2 * (PRICE - DISCOUNT) - 2 * REWARD);

    const report = await audit(drop.id);
    expect(report.breaches).toEqual([]);
    expect(report.notices).toEqual([
      {
        subject: `drop ${drop.id}`,
        message: expect.stringMatching(/not rebuilt: waitlist, shares, referrers$/),
      },
    ]);
  }, 90_000);
});
