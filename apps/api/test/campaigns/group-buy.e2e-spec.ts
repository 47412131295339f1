import { runAudit } from '@flashdrop/audit';
import { Inventory } from '@flashdrop/inventory';
import { LedgerFacts } from '@flashdrop/ledger';
import { RedisClient } from '@flashdrop/persistence';
import {
  api,
  ApiResponse,
  balancesOf,
  closeStackConnections,
  createDrop,
  dropBody,
  dropKeys,
  dropSnapshot,
  errorOf,
  eventually,
  fanIds,
  fund,
  grabVia,
  mapLimit,
  moveGroupDeadline,
  openDropBody,
  openStackConnections,
  OrderBody,
  pay,
  redisNow,
  revenueOf,
  roundNumbers,
  snapshotDiff,
  tokenFor,
  uniqueId,
  WebhookReceiver,
} from '@flashdrop/testing';
import { DataSource } from 'typeorm';

const PRICE = 5_000;

interface GroupBody {
  groupId: string;
  dropId: string;
  size: number;
  members: number;
  paidMembers: number;
  expiresAt: string;
  status: string;
}

type Grab = ApiResponse<OrderBody & { error?: string; groupId?: string }>;

/**
 * Group buy (拼团) through the running stack (docs/api.md "Campaigns"): the drop's fields; a
 * purchase starts or joins a group; every refusal writes nothing; a paid member's money waits
 * in the drop's escrow until the group completes (every member paid at once, escrow -> revenue)
 * or fails at its deadline (paid members refunded from escrow, holds expired, units back and
 * down the line, where a passed-down unit starts a new group); completion and failure each
 * once, however they race; the audit clean.
 */
describe('campaigns: group buy', () => {
  let redis: RedisClient;
  let inventory: Inventory;
  let db: DataSource;

  beforeAll(async () => ({ redis, inventory, db } = await openStackConnections()));
  afterAll(() => closeStackConnections({ redis, db }));

  const fanToken = (fan: string, tier?: string) => tokenFor('fan', fan, tier);
  const join = (dropId: string, fan: string, groupId?: string, tier?: string): Promise<Grab> =>
    grabVia(dropId, fanToken(fan, tier), groupId === undefined ? {} : { groupId });
  const group = async (dropId: string, groupId: string) =>
    (await api<GroupBody>('GET', `/v1/drops/${dropId}/groups/${groupId}`)).body;
  const order = async (orderId: string, fan: string) =>
    (await api<OrderBody>('GET', `/v1/orders/${orderId}`, { token: fanToken(fan) })).body;

  async function escrowOf(dropId: string): Promise<number> {
    const [row] = await db.query(
      `SELECT COALESCE(sum(balance_minor), 0) AS total FROM wallet.accounts
       WHERE kind = 'escrow' AND owner_id = $1`,
      [dropId],
    );
    return Number(row.total);
  }

  /** The drop's ledger transfers by kind: kind -> order ids (one entry per transfer). */
  async function transfersOf(dropId: string): Promise<Map<string, string[]>> {
    const rows: { kind: string; order_id: string }[] = await db.query(
      `SELECT kind, order_id FROM wallet.transfers WHERE drop_id = $1 ORDER BY id`,
      [dropId],
    );
    const out = new Map<string, string[]>();
    for (const r of rows) out.set(r.kind, [...(out.get(r.kind) ?? []), r.order_id]);
    return out;
  }

  /** The group sweeper has ended every group of the drop (none open, completing or failing). */
  async function allGroupsEnded(dropId: string, timeoutMs = 60_000): Promise<void> {
    const ended = await eventually(
      async () => (await redis.zcard(dropKeys(dropId).groups)) === 0,
      timeoutMs,
    );
    expect(ended).toBe(true);
  }

  async function failNow(dropId: string, groupId: string) {
    await moveGroupDeadline(redis, dropId, groupId, (await redisNow(redis)) - 1);
  }

  /**
   * A refused purchase writes nothing: the drop's every key compared before and after, apart
   * from what counts refusals (attempts, rej:<CODE>, the tally's event and receipt, written
   * later by the API's tally) and the worker's own bookkeeping; and no money moved.
   */
  async function expectNothingWritten(dropId: string, attempt: () => Promise<unknown>) {
    const counting = /#(attempts|rej:[A-Z_]+|last-id|added|retired|phase)$|:rcpt:|:a:|drops:active/;
    const before = await dropSnapshot(redis, dropId);
    const moneyBefore = await transfersOf(dropId);
    await attempt();
    const diff = snapshotDiff(before, await dropSnapshot(redis, dropId));
    for (const key of Object.keys(diff)) if (counting.test(key)) delete diff[key];
    expect(diff).toEqual({});
    expect(await transfersOf(dropId)).toEqual(moneyBefore);
  }

  describe('the drop fields', () => {
    it('stores groupSize and groupSeconds (default 3600) in PostgreSQL and Redis', async () => {
      const drop = await createDrop(openDropBody({ groupSize: 3 }));
      expect(drop).toMatchObject({ groupSize: 3, groupSeconds: 3600 });
      const [row] = await db.query(
        `SELECT group_size, group_seconds FROM sales.drops WHERE id = $1`,
        [drop.id],
      );
      expect(row).toEqual({ group_size: 3, group_seconds: 3600 });
      expect(await redis.hmget(dropKeys(drop.id).drop, 'groupSize', 'groupSeconds')).toEqual([
        '3',
        '3600',
      ]);
      const plain = await createDrop(openDropBody());
      expect(plain.groupSize).toBeUndefined();
    });

    it.each([
      ['on a draw drop', { groupSize: 3, allocation: 'draw' }, 'groupSize'],
      ['of 1', { groupSize: 1 }, 'groupSize'],
      ['of 51', { groupSize: 51 }, 'groupSize'],
      ['with 59 seconds', { groupSize: 3, groupSeconds: 59 }, 'groupSeconds'],
      ['with 86401 seconds', { groupSize: 3, groupSeconds: 86_401 }, 'groupSeconds'],
      ['with groupSeconds but no groupSize', { groupSeconds: 600 }, 'groupSeconds'],
      ['spread over stock buckets', { groupSize: 3, stockBuckets: 4 }, 'stockBuckets'],
    ])('refuses a group %s (400), writing nothing', async (_what, fields, field) => {
      const brand = tokenFor('brand', uniqueId('brand'));
      const res = await api<{ details?: { field: string }[] }>('POST', '/v1/drops', {
        token: brand,
        body: dropBody(fields),
      });
      expect(res.status).toBe(400);
      expect(errorOf(res)).toBe('VALIDATION_FAILED');
      expect(res.body.details?.map((d) => d.field)).toContain(field);
      expect((await api('GET', '/v1/drops', { token: brand })).body).toEqual([]);
    });
  });

  describe('refusals, each writing nothing', () => {
    it('groupId on a drop without groups, another quantity on a group drop: 400', async () => {
      const plain = await createDrop(openDropBody({ quantity: 5 }));
      const bucketed = await createDrop(openDropBody({ quantity: 8, stockBuckets: 4 }));
      const grouped = await createDrop(
        openDropBody({ quantity: 5, groupSize: 2, perUserLimit: 2 }),
      );
      const started = await join(grouped.id, uniqueId('fan'));
      expect(started.status).toBe(201);
      const groupId = String(started.body.groupId);
      await expectNothingWritten(plain.id, async () => {
        const res = await join(plain.id, uniqueId('fan'), groupId);
        expect(res.status).toBe(400);
        expect(errorOf(res)).toBe('VALIDATION_FAILED');
        expect(JSON.stringify(res.body)).toContain('groupId');
      });
      // A drop spread over stock buckets never has groups: refused before its bucketed grab.
      await expectNothingWritten(bucketed.id, async () => {
        const res = await join(bucketed.id, uniqueId('fan'), groupId);
        expect(res.status).toBe(400);
        expect(JSON.stringify(res.body)).toContain('groupId');
      });
      await expectNothingWritten(grouped.id, async () => {
        for (const body of [{ quantity: 2 }, { quantity: 2, groupId }]) {
          const res = await grabVia(grouped.id, fanToken(uniqueId('fan')), body);
          expect(res.status).toBe(400);
          expect(JSON.stringify(res.body)).toContain('quantity');
        }
      });
    });

    it('an unknown or malformed group: 404', async () => {
      const drop = await createDrop(openDropBody({ quantity: 5, groupSize: 2 }));
      await expectNothingWritten(drop.id, async () => {
        for (const groupId of ['g0123456789abcdef', 'nope', 'x'.repeat(64)]) {
          const res = await join(drop.id, uniqueId('fan'), groupId);
          expect(res.status).toBe(404);
          expect(errorOf(res)).toBe('NOT_FOUND');
        }
        expect((await api('GET', `/v1/drops/${drop.id}/groups/g0123456789abcdef`)).status).toBe(
          404,
        );
      });
    });

    it('GROUP_FULL at the size in live members; a cancelled member frees the seat', async () => {
      const drop = await createDrop(openDropBody({ quantity: 10, groupSize: 2 }));
      const [a, b, c, d] = fanIds(4);
      const started = await join(drop.id, a);
      const groupId = String(started.body.groupId);
      const second = await join(drop.id, b, groupId);
      expect(second.status).toBe(201);
      expect(second.body.groupId).toBe(groupId);
      await expectNothingWritten(drop.id, async () => {
        const res = await join(drop.id, c, groupId);
        expect(res.status).toBe(409);
        expect(errorOf(res)).toBe('GROUP_FULL');
      });
      expect(await group(drop.id, groupId)).toMatchObject({ members: 2, size: 2, status: 'open' });
      const cancelled = await api('POST', `/v1/orders/${second.body.id}/cancel`, {
        token: fanToken(b),
      });
      expect(cancelled.status).toBe(200);
      expect((await group(drop.id, groupId)).members).toBe(1);
      expect((await join(drop.id, d, groupId)).status).toBe(201);
    });

    it('GROUP_CLOSED once the group failed; MEMBERS_ONLY for an outsider of the tier', async () => {
      const drop = await createDrop(openDropBody({ quantity: 10, groupSize: 3 }));
      const started = await join(drop.id, uniqueId('fan'));
      const groupId = String(started.body.groupId);
      await failNow(drop.id, groupId);
      await allGroupsEnded(drop.id);
      expect((await group(drop.id, groupId)).status).toBe('failed');
      await expectNothingWritten(drop.id, async () => {
        const res = await join(drop.id, uniqueId('fan'), groupId);
        expect(res.status).toBe(409);
        expect(errorOf(res)).toBe('GROUP_CLOSED');
      });

      const members = await createDrop(
        openDropBody({ quantity: 10, groupSize: 3, audienceTier: 'gold' }),
      );
      const gold = await join(members.id, uniqueId('fan'), undefined, 'gold');
      expect(gold.status).toBe(201);
      await expectNothingWritten(members.id, async () => {
        for (const groupId of [String(gold.body.groupId), undefined]) {
          const res = await join(members.id, uniqueId('fan'), groupId);
          expect(res.status).toBe(403);
          expect(errorOf(res)).toBe('MEMBERS_ONLY');
        }
      });
    });

    it("a grouped order (paid, waiting in escrow): its refund is 409 ORDER_NOT_PAID (only the group's failure refunds it), its cancel 409 ORDER_PAID", async () => {
      const brandId = uniqueId('brand');
      const drop = await createDrop(
        openDropBody({ priceMinor: PRICE, quantity: 10, groupSize: 3 }),
        tokenFor('brand', brandId),
      );
      const fan = uniqueId('fan');
      await fund([fan], PRICE);
      const started = await join(drop.id, fan);
      expect(started.status).toBe(201);
      const paid = await pay(started.body.id, fan);
      expect(paid.body.status).toBe('grouped');
      const balanceBefore = (await balancesOf(db, [fan])).get(fan);
      await expectNothingWritten(drop.id, async () => {
        for (const token of [tokenFor('brand', brandId), tokenFor('operator')]) {
          const res = await api('POST', `/v1/orders/${started.body.id}/refund`, {
            token,
            body: { reason: 'changed my mind' },
          });
          expect(res.status).toBe(409);
          expect(errorOf(res)).toBe('ORDER_NOT_PAID');
        }
        const cancel = await api('POST', `/v1/orders/${started.body.id}/cancel`, {
          token: fanToken(fan),
        });
        expect(cancel.status).toBe(409);
        expect(errorOf(cancel)).toBe('ORDER_PAID');
      });
      // The money stays in escrow, the fan's balance where the payment left it.
      expect(await escrowOf(drop.id)).toBe(PRICE);
      expect((await balancesOf(db, [fan])).get(fan)).toBe(balanceBefore);
      expect((await order(started.body.id, fan)).status).toBe('grouped');
    });

    it('ALREADY_IN_GROUP: one seat per fan per group, even for the fan who started it and with units to spare; a freed seat may be taken again', async () => {
      const drop = await createDrop(openDropBody({ quantity: 10, groupSize: 3, perUserLimit: 5 }));
      const [starter, friend] = fanIds(2);
      const started = await join(drop.id, starter);
      const groupId = String(started.body.groupId);
      const joined = await join(drop.id, friend, groupId);
      expect(joined.status).toBe(201);
      for (const fan of [starter, friend]) {
        await expectNothingWritten(drop.id, async () => {
          const res = await join(drop.id, fan, groupId);
          expect(res.status).toBe(409);
          expect(errorOf(res)).toBe('ALREADY_IN_GROUP');
        });
      }
      expect(await group(drop.id, groupId)).toMatchObject({ members: 2, status: 'open' });
      // A fan may still start (or be in) another group of the drop.
      expect((await join(drop.id, friend)).status).toBe(201);
      // A cancelled hold frees the fan's seat: they may join again.
      const cancelled = await api('POST', `/v1/orders/${joined.body.id}/cancel`, {
        token: fanToken(friend),
      });
      expect(cancelled.status).toBe(200);
      expect((await join(drop.id, friend, groupId)).status).toBe(201);
      expect((await group(drop.id, groupId)).members).toBe(2);
    });

    it('200 concurrent joins of one fan take exactly one seat (and one unit)', async () => {
      const drop = await createDrop(openDropBody({ quantity: 50, groupSize: 5, perUserLimit: 50 }));
      const [starter, fan, other] = fanIds(3);
      const started = await join(drop.id, starter);
      const groupId = String(started.body.groupId);
      // Through the API: the per-fan grab limit (GRAB_RATE_LIMIT_PER_SECOND) answers most of a
      // burst of one fan 429 before the script; what gets past it races in the atomic step.
      const answers = await Promise.all(
        Array.from({ length: 200 }, () => join(drop.id, fan, groupId)),
      );
      const codes = answers.map((a) => (a.status === 201 ? '201' : `${a.status} ${errorOf(a)}`));
      expect(codes.filter((c) => c === '201')).toHaveLength(1);
      expect(new Set(codes.filter((c) => c !== '201'))).toEqual(
        new Set(['409 ALREADY_IN_GROUP', '429 TOO_MANY_REQUESTS']),
      );
      expect(codes.filter((c) => c === '409 ALREADY_IN_GROUP').length).toBeGreaterThanOrEqual(5);
      // The grab script itself (the step the API runs, on the stack's Redis), with no limit in
      // front: 200 joins of another fan at once, one seat.
      const direct = await Promise.all(
        Array.from({ length: 200 }, () =>
          inventory.grab({ dropId: drop.id, fanId: other, quantity: 1, groupId }),
        ),
      );
      expect(direct.filter((o) => o.ok)).toHaveLength(1);
      expect(new Set(direct.flatMap((o) => (o.ok ? [] : [o.code])))).toEqual(
        new Set(['ALREADY_IN_GROUP']),
      );
      expect(await group(drop.id, groupId)).toMatchObject({ members: 3, status: 'open' });
      expect(await redis.scard(dropKeys(drop.id).groupMembers(groupId))).toBe(3);
      for (const one of [fan, other]) {
        expect(await redis.hget(dropKeys(drop.id).fans, one)).toBe('1');
        expect(await redis.llen(dropKeys(drop.id).fanOrders(one))).toBe(1);
      }
      expect(await redis.get(dropKeys(drop.id).stock)).toBe('47');
      expect((await runAudit(inventory, new LedgerFacts(db), [drop.id])).breaches).toEqual([]);
    }, 60_000);
  });

  it('completes: paid members wait in escrow (grouped), the last payment makes every member paid at once, escrow -> revenue', async () => {
    const brandId = uniqueId('brand');
    const drop = await createDrop(
      openDropBody({ priceMinor: PRICE, quantity: 10, groupSize: 3 }),
      tokenFor('brand', brandId),
    );
    const fans = fanIds(3);
    await fund(fans, PRICE);
    const first = await join(drop.id, fans[0]);
    expect(first.status).toBe(201);
    const groupId = String(first.body.groupId);
    expect(groupId).toMatch(/^g[0-9a-f]{16}$/);
    const view = await group(drop.id, groupId);
    expect(view).toEqual({
      groupId,
      dropId: drop.id,
      size: 3,
      members: 1,
      paidMembers: 0,
      expiresAt: expect.any(String),
      status: 'open',
    });
    // The hold ends no later than the group.
    expect(Date.parse(first.body.expiresAt)).toBeLessThanOrEqual(Date.parse(view.expiresAt));
    const others = [await join(drop.id, fans[1], groupId), await join(drop.id, fans[2], groupId)];
    const orders = [first, ...others].map((r) => r.body);

    const paid0 = await pay(orders[0].id, fans[0]);
    expect(paid0.status).toBe(200);
    expect(paid0.body.status).toBe('grouped');
    expect(await escrowOf(drop.id)).toBe(PRICE);
    // A grouped order is neither cancelled nor paid twice.
    const cancel = await api('POST', `/v1/orders/${orders[0].id}/cancel`, {
      token: fanToken(fans[0]),
    });
    expect(cancel.status).toBe(409);
    expect(errorOf(cancel)).toBe('ORDER_PAID');
    expect((await pay(orders[0].id, fans[0])).body.status).toBe('grouped');
    expect((await pay(orders[1].id, fans[1])).body.status).toBe('grouped');
    expect(await group(drop.id, groupId)).toMatchObject({ paidMembers: 2, status: 'open' });
    expect(await escrowOf(drop.id)).toBe(2 * PRICE);
    expect(await revenueOf(db, brandId)).toBe(0);

    const last = await pay(orders[2].id, fans[2]);
    expect(last.status).toBe(200);
    expect(last.body.status).toBe('paid');
    for (const [i, o] of orders.entries()) expect((await order(o.id, fans[i])).status).toBe('paid');
    expect(await group(drop.id, groupId)).toMatchObject({
      members: 3,
      paidMembers: 3,
      status: 'complete',
    });
    expect(await escrowOf(drop.id)).toBe(0);
    expect(await revenueOf(db, brandId)).toBe(3 * PRICE);
    const moved = await transfersOf(drop.id);
    const ids = orders.map((o) => o.id).sort();
    expect([...(moved.get('payment') ?? [])].sort()).toEqual(ids);
    expect([...(moved.get('group_release') ?? [])].sort()).toEqual(ids);
    expect(moved.get('refund')).toBeUndefined();
    const stats = await redis.hgetall(dropKeys(drop.id).stats);
    expect(stats).toMatchObject({
      paid: '3',
      grouped: '0',
      escrowMinor: '0',
      groupsCompleted: '1',
    });
    expect(stats.revenueMinor).toBe(String(3 * PRICE));
    await allGroupsEnded(drop.id);
    expect((await runAudit(inventory, new LedgerFacts(db), [drop.id])).breaches).toEqual([]);
  });

  it('fails at its deadline: paid members refunded from escrow, holds expired, every unit back, down the line where a passed-down unit starts a new group', async () => {
    const brandId = uniqueId('brand');
    const drop = await createDrop(
      openDropBody({ priceMinor: PRICE, quantity: 2, groupSize: 3 }),
      tokenFor('brand', brandId),
    );
    const [a, b, waiter] = fanIds(3);
    await fund([a, b], PRICE);
    const first = await join(drop.id, a);
    const groupId = String(first.body.groupId);
    const second = await join(drop.id, b, groupId);
    expect(second.status).toBe(201);
    expect((await pay(first.body.id, a)).body.status).toBe('grouped');
    // Sold out: a third fan waits in line.
    const queued = await api('POST', `/v1/drops/${drop.id}/waitlist`, { token: fanToken(waiter) });
    expect(queued.status).toBe(201);

    await failNow(drop.id, groupId);
    expect(
      await eventually(async () => (await group(drop.id, groupId)).status === 'failed', 30_000),
    ).toBe(true);
    expect(await order(first.body.id, a)).toMatchObject({ status: 'refunded' });
    expect(await order(second.body.id, b)).toMatchObject({ status: 'expired' });
    expect(await escrowOf(drop.id)).toBe(0);
    expect(await revenueOf(db, brandId)).toBe(0);
    const moved = await transfersOf(drop.id);
    expect(moved.get('refund')).toEqual([first.body.id]);
    expect(moved.get('group_release')).toBeUndefined();
    const txs = await api<{ items: { kind: string; orderId?: string }[] }>(
      'GET',
      '/v1/wallet/transactions',
      { token: fanToken(a) },
    );
    expect(txs.body.items.map((t) => t.kind)).toEqual(['refund', 'payment', 'credit']);

    // One unit went to the fan in line, as a hold of a new group of their own; one to stock.
    const waiterOrders = (
      await api<OrderBody[]>('GET', '/v1/orders', { token: fanToken(waiter) })
    ).body.filter((o) => o.dropId === drop.id);
    expect(waiterOrders).toHaveLength(1);
    const newGroup = String(waiterOrders[0].groupId);
    expect(newGroup).not.toBe(groupId);
    expect(await group(drop.id, newGroup)).toMatchObject({ members: 1, status: 'open' });
    expect((await api<{ remaining: number }>('GET', `/v1/drops/${drop.id}`)).body.remaining).toBe(
      1,
    );
    const stats = await redis.hgetall(dropKeys(drop.id).stats);
    expect(stats).toMatchObject({
      groupsFailed: '1',
      refunded: '1',
      grouped: '0',
      escrowMinor: '0',
    });
    await failNow(drop.id, newGroup);
    await allGroupsEnded(drop.id);
    expect((await runAudit(inventory, new LedgerFacts(db), [drop.id])).breaches).toEqual([]);
  });

  it('tells the brand: group.completed and group.failed webhooks carry the group as it ended', async () => {
    const receiver = await new WebhookReceiver().start();
    try {
      const brand = tokenFor('brand', uniqueId('brand'));
      const hook = await api('POST', '/v1/webhooks', {
        token: brand,
        body: { url: receiver.url, events: ['group.completed', 'group.failed'] },
      });
      expect(hook.status).toBe(201);
      const drop = await createDrop(
        openDropBody({ priceMinor: PRICE, quantity: 10, groupSize: 2 }),
        brand,
      );
      const fans = fanIds(3);
      await fund(fans, PRICE);
      const a = await join(drop.id, fans[0]);
      const completed = String(a.body.groupId);
      const b = await join(drop.id, fans[1], completed);
      await pay(a.body.id, fans[0]);
      expect((await pay(b.body.id, fans[1])).body.status).toBe('paid');
      const c = await join(drop.id, fans[2]);
      const failed = String(c.body.groupId);
      await pay(c.body.id, fans[2]);
      await failNow(drop.id, failed);
      await allGroupsEnded(drop.id);
      expect(await eventually(async () => receiver.accepted.size === 2, 30_000)).toBe(true);
      const byType = new Map([...receiver.accepted.values()].map((d) => [d.json.type, d.json]));
      expect(byType.get('group.completed')?.data).toMatchObject({
        groupId: completed,
        dropId: drop.id,
        size: 2,
        paidMembers: 2,
        status: 'complete',
      });
      expect(byType.get('group.failed')?.data).toMatchObject({
        groupId: failed,
        dropId: drop.id,
        paidMembers: 1,
        status: 'failed',
      });
    } finally {
      await receiver.stop();
    }
  });

  it.each(roundNumbers(3))(
    'the last payment racing the failure at the deadline: the group completes or fails, once (round %i)',
    async () => {
      const drop = await createDrop(
        openDropBody({ priceMinor: PRICE, quantity: 20, groupSize: 2 }),
      );
      const pairs = 8;
      const groups: { groupId: string; orders: OrderBody[]; fans: string[] }[] = [];
      for (let i = 0; i < pairs; i++) {
        const fans = fanIds(2);
        await fund(fans, PRICE);
        const first = await join(drop.id, fans[0]);
        const groupId = String(first.body.groupId);
        const second = await join(drop.id, fans[1], groupId);
        expect((await pay(first.body.id, fans[0])).body.status).toBe('grouped');
        groups.push({ groupId, orders: [first.body, second.body], fans });
      }
      // Each deadline a few ms ahead; the last payment and the sweeper race over it.
      const now = await redisNow(redis);
      await Promise.all(
        groups.map((g, i) => moveGroupDeadline(redis, drop.id, g.groupId, now + 20 + 15 * i)),
      );
      const answers = await Promise.all(groups.map((g) => pay(g.orders[1].id, g.fans[1])));
      await allGroupsEnded(drop.id);
      for (const [i, g] of groups.entries()) {
        const status = (await group(drop.id, g.groupId)).status;
        const mine = await Promise.all(g.orders.map((o, j) => order(o.id, g.fans[j])));
        // The fence's two sides, by the sale clock: a group completes only by a payment before
        // its deadline, and fails only at or after it.
        const [deadline, completingAt, failingAt] = (
          await redis.hmget(
            dropKeys(drop.id).group(g.groupId),
            'expiresAt',
            'completingAt',
            'failingAt',
          )
        ).map(Number);
        if (status === 'complete') {
          expect(completingAt).toBeLessThan(deadline);
          expect(failingAt).toBe(0);
        } else {
          expect(failingAt).toBeGreaterThanOrEqual(deadline);
          expect(completingAt).toBe(0);
        }
        if (status === 'complete') {
          expect(answers[i].body.status).toBe('paid');
          expect(mine.map((o) => o.status)).toEqual(['paid', 'paid']);
        } else {
          expect(status).toBe('failed');
          expect(mine[0].status).toBe('refunded');
          expect(['refunded', 'expired']).toContain(mine[1].status);
        }
      }
      expect(await escrowOf(drop.id)).toBe(0);
      expect((await runAudit(inventory, new LedgerFacts(db), [drop.id])).breaches).toEqual([]);
    },
    120_000,
  );

  it.each(roundNumbers(2))(
    '1,000 fans race to join 100 groups of 5 on a 400-unit drop, with payments, cancels and expiries interleaved (round %i)',
    async () => {
      const brandId = uniqueId('brand');
      const drop = await createDrop(
        openDropBody({ priceMinor: PRICE, quantity: 400, groupSize: 5 }),
        tokenFor('brand', brandId),
      );
      const fans = fanIds(1000);
      await fund(fans, PRICE);
      const starters = fans.slice(0, 100);
      const joiners = fans.slice(100);
      const started = await mapLimit(starters, 50, (fan) => join(drop.id, fan));
      expect(started.every((r) => r.status === 201)).toBe(true);
      const groupIds = started.map((r) => String(r.body.groupId));

      // Every joiner aims at one group; as each is answered, its member pays (most), cancels
      // (some) or leaves the hold to the group's deadline (the rest), all in flight together.
      const accepted: { order: OrderBody; fan: string }[] = [...started].map((r, i) => ({
        order: r.body,
        fan: starters[i],
      }));
      const outcomes = new Map<string, number>();
      const act = async (o: OrderBody, fan: string, n: number) => {
        if (n % 10 < 7) return pay(o.id, fan);
        if (n % 10 < 8) return api('POST', `/v1/orders/${o.id}/cancel`, { token: fanToken(fan) });
        return undefined;
      };
      await mapLimit(joiners, 100, async (fan, i) => {
        const res = await join(drop.id, fan, groupIds[i % 100]);
        const key = res.status === 201 ? 'accepted' : String(errorOf(res));
        outcomes.set(key, (outcomes.get(key) ?? 0) + 1);
        if (res.status !== 201) {
          expect(['GROUP_FULL', 'SOLD_OUT']).toContain(errorOf(res));
          return;
        }
        expect(res.body.groupId).toBe(groupIds[i % 100]);
        accepted.push({ order: res.body, fan });
        await act(res.body, fan, i);
      });
      await mapLimit(accepted.slice(0, 100), 50, ({ order: o, fan }, i) => act(o, fan, i));
      // Never more units out than the drop has, whatever the race.
      const mid = await redis.hgetall(dropKeys(drop.id).stats);
      expect(Number(mid.held) + Number(mid.grouped) + Number(mid.paid)).toBeLessThanOrEqual(400);

      const now = await redisNow(redis);
      for (const groupId of groupIds) await moveGroupDeadline(redis, drop.id, groupId, now);
      await allGroupsEnded(drop.id, 120_000);

      let complete = 0;
      let failed = 0;
      for (const groupId of groupIds) {
        const g = await group(drop.id, groupId);
        expect(['complete', 'failed']).toContain(g.status);
        if (g.status === 'complete') complete++;
        else failed++;
        expect(g.members).toBeLessThanOrEqual(5);
      }
      const stats = await redis.hgetall(dropKeys(drop.id).stats);
      // Each group ended once: as many ends as groups (passed-down units may start more).
      expect(Number(stats.groupsCompleted ?? 0)).toBe(complete);
      expect(Number(stats.groupsFailed ?? 0)).toBeGreaterThanOrEqual(failed);
      expect(stats.grouped).toBe('0');
      expect(stats.escrowMinor).toBe('0');
      expect(await escrowOf(drop.id)).toBe(0);
      const moved = await transfersOf(drop.id);
      expect(moved.get('group_release')?.length ?? 0).toBe(5 * complete);
      expect(Number(stats.paid)).toBe(5 * complete);
      expect(await revenueOf(db, brandId)).toBe(5 * complete * PRICE);
      expect(new Set(moved.get('refund')).size).toBe(moved.get('refund')?.length ?? 0);
      expect((await runAudit(inventory, new LedgerFacts(db), [drop.id])).breaches).toEqual([]);
    },
    300_000,
  );
});
