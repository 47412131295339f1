import type { RedisClient } from '@flashdrop/persistence';
import {
  createOpenDrop,
  dropSnapshot,
  heldOrder,
  moveGroupDeadline,
  moveHoldDeadline,
  namingReceipts,
  outboxEvents,
  redisNow,
  refusalTallyWrites,
  SaleRedisFixture,
  slotPort,
  snapshotDiff,
} from '@flashdrop/testing';

import { dropKeys } from './keys';
import { DropDefinition, Inventory, InventoryOrder } from './index';

const PRICE = 10_000;

/**
 * Group buy in the scripts, against a Redis of this test's own: a grab starts or joins a group
 * (grab.lua, _lib.lua start_group / join_group), a member's seat frees with its hold (release),
 * a payment puts the member in escrow and the one that fills the group fences it `completing`
 * (complete_payment.lua), finish_group pays every member at once; at the deadline fail_group
 * fences it `failing` and settle_failed_group refunds the grouped members, their units passed
 * down where a passed-down unit starts a group of its own (backfill_hold). Every record each
 * step writes is read back: the group's hash, its members, the unfinished groups' zset, the
 * orders, the holds, the drop's counters and the events. The wallet's half (escrow, release,
 * refund) is tested through the stack (apps/api/test/campaigns/group-buy.e2e-spec.ts).
 */
describe('group buy in the scripts (real Redis)', () => {
  const own = new SaleRedisFixture({ port: slotPort(6704) });
  let redis: RedisClient;
  let inventory: Inventory;

  beforeAll(async () => {
    ({ redis, inventory } = await own.open());
  }, 30_000);
  afterAll(() => own.close());

  /** A first-come group-buy drop on sale now: groups of 3, 60 s to fill (holds last 600 s). */
  const newDrop = (overrides: Partial<DropDefinition> = {}) =>
    createOpenDrop(inventory, {
      priceMinor: PRICE,
      quantity: 10,
      groupSize: 3,
      groupSeconds: 60,
      ...overrides,
    });

  const join = (dropId: string, fanId: string, groupId?: string) =>
    heldOrder(inventory, { dropId, fanId, groupId });

  /** begin + complete: the member's money is in escrow (the wallet's debit is not run here). */
  async function pay(orderId: string): Promise<InventoryOrder> {
    expect((await inventory.beginPayment(orderId)).ok).toBe(true);
    expect((await inventory.getOrder(orderId))!.payingUntil).toBeDefined();
    const done = await inventory.completePayment(orderId);
    if (!done.ok) throw new Error(`not completed: ${done.code}`);
    return done.value;
  }

  const stats = (dropId: string) => redis.hgetall(dropKeys(dropId).stats);
  const groupHash = (dropId: string, groupId: string) =>
    redis.hgetall(dropKeys(dropId).group(groupId));
  const dueAt = async (dropId: string, groupId: string) => {
    const score = await redis.zscore(dropKeys(dropId).groups, groupId);
    return score === null ? null : Number(score);
  };

  const events = (dropId: string, type?: string) => outboxEvents(redis, dropId, type);

  /**
   * What `step` changed under the drop (dropSnapshot: every key with its content), the refusal
   * tally flushed before and after so that its timer cannot race the comparison; its one
   * batch receipt is named `rcpt:<run 1>` (namingReceipts).
   */
  async function changedBy(dropId: string, step: () => Promise<unknown>) {
    await inventory.refusals.flush();
    const before = await dropSnapshot(redis, dropId);
    await step();
    await inventory.refusals.flush();
    const after = await dropSnapshot(redis, dropId);
    return { diff: namingReceipts(snapshotDiff(before, after), dropId), before, after };
  }

  it('a grab starts a group, each join takes a seat, the holds end with the group; at its size GROUP_FULL, a released seat taken again', async () => {
    const def = await newDrop();
    const first = await join(def.id, 'a');
    const gid = first.groupId!;
    expect(gid).toMatch(/^g[0-9a-f]{16}$/);
    const g = (await inventory.group(def.id, gid))!;
    expect(g).toEqual({
      id: gid,
      dropId: def.id,
      size: 3,
      members: 1,
      paidMembers: 0,
      startedAt: first.createdAt,
      expiresAt: first.createdAt + 60_000,
      status: 'open',
    });
    // The hold (600 s) ends with the group (60 s), in the order and in the holds zset.
    expect(first.expiresAt).toBe(g.expiresAt);
    expect(await redis.zscore(dropKeys(def.id).holds, first.id)).toBe(String(g.expiresAt));
    expect((await inventory.getOrder(first.id))!.groupId).toBe(gid);
    expect(await dueAt(def.id, gid)).toBe(g.expiresAt);
    expect(await inventory.groupMembers(def.id, gid)).toEqual([first.id]);
    expect(await stats(def.id)).toMatchObject({ groupsStarted: '1', held: '1' });
    expect(await events(def.id, 'grab.accepted')).toEqual([
      { type: 'grab.accepted', data: expect.objectContaining({ groupId: gid }) },
    ]);

    const b = await join(def.id, 'b', gid);
    const c = await join(def.id, 'c', gid);
    for (const o of [b, c]) {
      expect((await inventory.getOrder(o.id))!.groupId).toBe(gid);
      expect(o.expiresAt).toBe(g.expiresAt);
    }
    expect((await inventory.group(def.id, gid))!.members).toBe(3);
    expect((await inventory.groupMembers(def.id, gid)).sort()).toEqual(
      [first.id, b.id, c.id].sort(),
    );
    // Joining starts nothing.
    expect((await stats(def.id)).groupsStarted).toBe('1');

    // Refused: nothing written but the refusal tally's count.
    const full = await changedBy(def.id, async () =>
      expect(
        await inventory.grab({ dropId: def.id, fanId: 'd', quantity: 1, groupId: gid }),
      ).toEqual({ ok: false, code: 'GROUP_FULL' }),
    );
    expect(full.diff).toEqual(refusalTallyWrites(full, def.id, 'GROUP_FULL'));

    // A cancelled member's seat frees (release): the next fan takes it.
    expect((await inventory.cancelOrder(c.id, 'c')).ok).toBe(true);
    expect((await inventory.group(def.id, gid))!.members).toBe(2);
    const d = await join(def.id, 'd', gid);
    expect((await inventory.group(def.id, gid))!.members).toBe(3);
    // An expired member's seat frees too (the sweeper's release).
    await moveHoldDeadline(redis, d.id, (await redisNow(redis)) - 1);
    expect((await inventory.expireDue(def.id)).expiredOrders).toBe(1);
    expect((await inventory.getOrder(d.id))!.status).toBe('expired');
    expect((await inventory.group(def.id, gid))!.members).toBe(2);
    // Members past and present: every order that ever joined.
    expect(await inventory.groupMembers(def.id, gid)).toHaveLength(4);
  });

  it('completes: each payment puts its member in escrow (grouped), the one that fills it fences it completing, finish_group pays every member at once, once', async () => {
    const def = await newDrop({ shareDiscountMinor: 500, referralRewardMinor: 300 });
    // A sharer pays the discounted price; a referred fan's order owes its referrer a reward.
    expect((await inventory.share(def.id, 'sharer', 'weibo')).ok).toBe(true);
    expect((await inventory.reserve(def.id, 'referred', 'referrer')).ok).toBe(true);
    const a = await join(def.id, 'sharer');
    const gid = a.groupId!;
    const b = await join(def.id, 'referred', gid);
    const c = await join(def.id, 'plain', gid);
    expect(a.amountMinor).toBe(PRICE - 500);
    expect(b.rewardMinor).toBe(300);
    const total = 3 * PRICE - 500;

    const grouped = await pay(a.id);
    expect(grouped.status).toBe('grouped');
    const stored = (await inventory.getOrder(a.id))!;
    expect(stored).toMatchObject({ status: 'grouped', groupedAt: grouped.groupedAt });
    expect(stored.payingUntil).toBeUndefined();
    // In escrow, no longer a hold the sweeper expires.
    expect(await redis.zscore(dropKeys(def.id).holds, a.id)).toBeNull();
    expect(await stats(def.id)).toMatchObject({
      held: '2',
      grouped: '1',
      escrowMinor: String(PRICE - 500),
    });
    expect((await stats(def.id)).paid).toBeUndefined();
    expect(await inventory.group(def.id, gid)).toMatchObject({ paidMembers: 1, status: 'open' });
    expect(await events(def.id, 'order.grouped')).toEqual([
      {
        type: 'order.grouped',
        data: expect.objectContaining({ orderId: a.id, groupId: gid, paidMembers: 1 }),
      },
    ]);
    // A second completion of a grouped order answers it and writes nothing.
    const again = await changedBy(def.id, async () =>
      expect(await inventory.completePayment(a.id)).toMatchObject({
        ok: true,
        value: { status: 'grouped' },
      }),
    );
    expect(again.diff).toEqual({});

    await pay(b.id);
    expect(await inventory.group(def.id, gid)).toMatchObject({ paidMembers: 2, status: 'open' });
    const last = await pay(c.id);
    expect(last.status).toBe('grouped');
    const fenced = await groupHash(def.id, gid);
    expect(fenced).toMatchObject({ status: 'completing', paidMembers: '3' });
    expect(Number(fenced.completingAt)).toBe(last.groupedAt);
    // Due for the sweeper a grace after the filling payment (the payer finishes it first).
    expect(await dueAt(def.id, gid)).toBe(Number(fenced.completingAt) + 5000);
    expect(await stats(def.id)).toMatchObject({
      held: '0',
      grouped: '3',
      escrowMinor: String(total),
    });
    // Nothing is revenue before the escrow is released.
    expect((await stats(def.id)).revenueMinor ?? '0').toBe('0');

    expect(await inventory.finishGroup(def.id, gid)).toEqual({ ok: true, value: undefined });
    const done = await groupHash(def.id, gid);
    expect(done.status).toBe('complete');
    const completedAt = Number(done.completedAt);
    expect(completedAt).toBeGreaterThanOrEqual(Number(fenced.completingAt));
    for (const o of [a, b, c]) {
      expect(await inventory.getOrder(o.id)).toMatchObject({ status: 'paid', paidAt: completedAt });
    }
    expect(await dueAt(def.id, gid)).toBeNull();
    expect(await stats(def.id)).toMatchObject({
      held: '0',
      grouped: '0',
      paid: '3',
      escrowMinor: '0',
      revenueMinor: String(total),
      discountsMinor: '500',
      referralRewardsMinor: '300',
      groupsCompleted: '1',
    });
    const paidEvents = await events(def.id, 'order.paid');
    expect(paidEvents.map((e) => e.data.orderId).sort()).toEqual([a.id, b.id, c.id].sort());
    for (const e of paidEvents) {
      expect(e.data.escrowMinor).toBe(e.data.amountMinor);
    }
    expect(await events(def.id, 'group.completed')).toEqual([
      {
        type: 'group.completed',
        data: expect.objectContaining({
          groupId: gid,
          size: 3,
          members: 3,
          amountMinor: total,
        }),
      },
    ]);

    // Again (the payer and the sweeper both got there): answered, nothing written.
    const finishedAgain = await changedBy(def.id, async () =>
      expect(await inventory.finishGroup(def.id, gid)).toEqual({ ok: true, value: undefined }),
    );
    expect(finishedAgain.diff).toEqual({});
  });

  it('fails at its deadline: fenced failing, unpaid holds expire down the line (a passed-down unit starts a group of its own), the grouped refunded, failed once', async () => {
    const def = await newDrop({ quantity: 2 });
    const a = await join(def.id, 'a');
    const gid = a.groupId!;
    const b = await join(def.id, 'b', gid);
    await pay(a.id);
    // Sold out: a fan waits in line.
    expect((await inventory.joinWaitlist(def.id, 'waiter')).ok).toBe(true);

    // Before the deadline nothing fails, nothing is written.
    const early = await changedBy(def.id, async () =>
      expect(await inventory.failGroup(def.id, gid)).toEqual({ step: 'open' }),
    );
    expect(early.diff).toEqual({});

    await moveGroupDeadline(redis, def.id, gid, (await redisNow(redis)) - 1);
    expect(await inventory.failGroup(def.id, gid)).toEqual({
      step: 'failing',
      paying: 0,
      grouped: [a.id],
    });
    const failing = await groupHash(def.id, gid);
    expect(failing.status).toBe('failing');
    expect(Number(failing.failingAt)).toBeGreaterThan(0);
    // b's hold expired at once, its seat freed; its unit went to the fan in line, as a hold of
    // a new group of that fan's own (every hold of a group-buy drop is in a group).
    expect((await inventory.getOrder(b.id))!.status).toBe('expired');
    expect((await inventory.group(def.id, gid))!.members).toBe(1);
    const [passed] = (await redis.lrange(dropKeys(def.id).fanOrders('waiter'), 0, -1)).map(String);
    const handed = (await inventory.getOrder(passed))!;
    expect(handed).toMatchObject({ status: 'held', fromOrderId: b.id });
    const newGid = handed.groupId!;
    expect(newGid).toBeDefined();
    expect(newGid).not.toBe(gid);
    expect(await inventory.group(def.id, newGid)).toMatchObject({
      members: 1,
      status: 'open',
      size: 3,
    });
    expect(await inventory.groupMembers(def.id, newGid)).toEqual([passed]);
    expect(await dueAt(def.id, newGid)).toBe((await inventory.group(def.id, newGid))!.expiresAt);
    expect(await stats(def.id)).toMatchObject({ groupsStarted: '2', grouped: '1' });

    // A failing group takes no one; a second fail writes nothing new.
    const fenced = await changedBy(def.id, async () => {
      expect(
        await inventory.grab({ dropId: def.id, fanId: 'late', quantity: 1, groupId: gid }),
      ).toEqual({ ok: false, code: 'GROUP_CLOSED' });
      expect(await inventory.failGroup(def.id, gid)).toEqual({
        step: 'failing',
        paying: 0,
        grouped: [a.id],
      });
    });
    expect(fenced.diff).toEqual(refusalTallyWrites(fenced, def.id, 'GROUP_CLOSED'));

    // The wallet refunded a: refunded, its unit freed (to stock: no one is left in line).
    expect(await inventory.settleFailedGroup(def.id, gid, [a.id])).toEqual({ failed: true });
    const refunded = (await inventory.getOrder(a.id))!;
    expect(refunded).toMatchObject({ status: 'refunded', refundReason: 'group failed' });
    expect(refunded.refundedAt).toBeGreaterThan(0);
    expect(await redis.hget(dropKeys(def.id).fans, 'a')).toBe('0');
    expect(Number(await redis.get(dropKeys(def.id).stock))).toBe(1);
    const ended = await groupHash(def.id, gid);
    expect(ended).toMatchObject({ status: 'failed', members: '0' });
    expect(Number(ended.failedAt)).toBeGreaterThanOrEqual(Number(failing.failingAt));
    expect(await dueAt(def.id, gid)).toBeNull();
    expect(await stats(def.id)).toMatchObject({
      grouped: '0',
      refunded: '1',
      escrowMinor: '0',
      groupsFailed: '1',
    });
    expect(await events(def.id, 'order.refunded')).toEqual([
      {
        type: 'order.refunded',
        data: expect.objectContaining({
          orderId: a.id,
          reason: 'group failed',
          escrowMinor: PRICE,
          remaining: 1,
        }),
      },
    ]);
    expect(await events(def.id, 'group.failed')).toEqual([
      {
        type: 'group.failed',
        data: expect.objectContaining({
          groupId: gid,
          paidMembers: 1,
          refundedMinor: PRICE,
        }),
      },
    ]);

    // Again: answered failed, nothing written.
    const again = await changedBy(def.id, async () =>
      expect(await inventory.settleFailedGroup(def.id, gid, [a.id])).toEqual({ failed: true }),
    );
    expect(again.diff).toEqual({});
  });

  it('stays failing while a grouped member is not yet refunded; a payment after the deadline never completes it', async () => {
    const def = await newDrop();
    const a = await join(def.id, 'a');
    const gid = a.groupId!;
    const b = await join(def.id, 'b', gid);
    const c = await join(def.id, 'c', gid);
    await pay(a.id);
    await pay(b.id);
    await moveGroupDeadline(redis, def.id, gid, (await redisNow(redis)) - 1);
    // The last seat paid after the deadline (the sweeper not there yet): grouped, but the fence
    // is the deadline: the group stays open for the sweeper to fail.
    await pay(c.id);
    expect(await inventory.group(def.id, gid)).toMatchObject({ paidMembers: 3, status: 'open' });
    const step = await inventory.failGroup(def.id, gid);
    expect(step).toMatchObject({ step: 'failing', paying: 0 });
    expect(step.step === 'failing' && [...step.grouped].sort()).toEqual([a.id, b.id, c.id].sort());

    // The wallet refunded one of three so far: that one only, the group still failing.
    expect(await inventory.settleFailedGroup(def.id, gid, [a.id])).toEqual({ failed: false });
    expect((await inventory.getOrder(a.id))!.status).toBe('refunded');
    expect((await inventory.getOrder(b.id))!.status).toBe('grouped');
    expect(await groupHash(def.id, gid)).toMatchObject({ status: 'failing', members: '2' });
    expect(await dueAt(def.id, gid)).not.toBeNull();
    expect(await stats(def.id)).toMatchObject({
      grouped: '2',
      refunded: '1',
      escrowMinor: String(2 * PRICE),
    });
    expect(await events(def.id, 'group.failed')).toEqual([]);
    // An order of no group of its own is ignored.
    expect(await inventory.settleFailedGroup(def.id, gid, [b.id, c.id, 'not-a-member'])).toEqual({
      failed: true,
    });
    expect(await stats(def.id)).toMatchObject({ grouped: '0', refunded: '3', escrowMinor: '0' });
    expect(await events(def.id, 'group.failed')).toEqual([
      {
        type: 'group.failed',
        data: expect.objectContaining({ paidMembers: 3, refundedMinor: 3 * PRICE }),
      },
    ]);
  });
});
