import { OutboxStreamFields } from '@flashdrop/events';
import { defineLuaScripts, LuaCall } from '@flashdrop/lua';
import { createRedis } from '@flashdrop/persistence';
import {
  createOpenDrop,
  DedicatedRedis,
  dropDefinition,
  heldOrder,
  moveGroupDeadline,
  moveHoldDeadline,
  redisNow,
  slotPort,
} from '@flashdrop/testing';
import Redis from 'ioredis';
import { DROPS_ACTIVE_KEY, dropKeys } from './keys';
import { INVENTORY_SCRIPTS, INVENTORY_SOURCES } from './lua-scripts';
import { bucketOf, DropDefinition, Inventory, InventoryOrder } from './index';

/**
 * Every write script, run twice with the same KEYS and ARGV, changes the sale once: what Redis
 * sees when a client re-sends a command whose reply it lost (ioredis does so on reconnect, see
 * libs/persistence redis.ts). Each script is given to the Inventory doubled: the first run's
 * answer is thrown away, as the lost reply was, and the caller gets the second.
 * apps/api/test/lost-replies.e2e-spec.ts shows the same through a proxy that cuts the real
 * connection between the API process and Redis.
 */
describe('every write script is safe to run twice with the same arguments', () => {
  const server = new DedicatedRedis(slotPort(6399));
  let redis: Redis;
  let doubled: Redis;
  /** The Inventory whose scripts each run twice. */
  let twice: Inventory;
  /** A plain one, for the set-up and the readings. */
  let once: Inventory;

  beforeAll(async () => {
    server.start();
    redis = createRedis(server.url);
    await redis.flushdb();
    once = new Inventory(redis);
    doubled = createRedis(server.url, { enableAutoPipelining: false });
    twice = new Inventory(runEveryScriptTwice(doubled));
  }, 30_000);
  afterAll(async () => {
    await doubled.quit();
    await redis.quit();
    server.stop();
  });

  const newDrop = (overrides: Partial<DropDefinition> = {}) => createOpenDrop(once, overrides);

  async function eventTypes(dropId: string): Promise<string[]> {
    const entries = await redis.xrange(dropKeys(dropId).events, '-', '+');
    return entries.map(([, flat]) => flat[flat.indexOf(OutboxStreamFields.type) + 1]);
  }

  const count = async (dropId: string, type: string) =>
    (await eventTypes(dropId)).filter((t) => t === type).length;
  const stock = async (dropId: string) => Number(await redis.get(dropKeys(dropId).stock));
  const units = async (dropId: string, fanId: string) =>
    Number((await redis.hget(dropKeys(dropId).fans, fanId)) ?? 0);

  const held = (def: DropDefinition, fanId: string) => heldOrder(once, { dropId: def.id, fanId });

  /** A stored order of fan-1 (2 units at the drop's price), as sales.orders gives it back. */
  const storedOrder = (
    def: DropDefinition,
    digit: string,
    status: InventoryOrder['status'],
    createdAt: number,
  ): InventoryOrder => ({
    id: `${def.id}-${digit.repeat(16)}`,
    dropId: def.id,
    fanId: 'fan-1',
    quantity: 2,
    amountMinor: 2 * def.priceMinor,
    unitPriceMinor: def.priceMinor,
    discountMinor: 0,
    currency: def.currency,
    status,
    createdAt,
    expiresAt: createdAt + 600_000,
  });

  /** A group started by `starter`'s grab and joined by `joiner`'s, each through `via`. */
  async function startGroup(via: Inventory, def: DropDefinition, starter: string, joiner: string) {
    const first = await via.grab({ dropId: def.id, fanId: starter, quantity: 1 });
    if (!first.ok) throw new Error(`grab refused: ${first.code}`);
    const groupId = first.order.groupId!;
    const second = await via.grab({ dropId: def.id, fanId: joiner, quantity: 1, groupId });
    if (!second.ok) throw new Error(`join refused: ${second.code}`);
    return { first, second, groupId };
  }

  it('grab without an Idempotency-Key: one order, one unit, one event; the order answered', async () => {
    const def = await newDrop({ perUserLimit: 5 });
    const r = await twice.grab({ dropId: def.id, fanId: 'fan-1', quantity: 2 });
    expect(r).toMatchObject({ ok: true, order: { status: 'held', quantity: 2 } });
    expect(await stock(def.id)).toBe(def.quantity - 2);
    expect(await units(def.id, 'fan-1')).toBe(2);
    expect(await count(def.id, 'grab.accepted')).toBe(1);
    expect(await redis.zcard(dropKeys(def.id).holds)).toBe(1);
    expect(await redis.lrange(dropKeys(def.id).fanOrders('fan-1'), 0, -1)).toEqual([
      r.ok && r.order.id,
    ]);
    expect(await once.counters(def.id)).toMatchObject({ held: 2, grabAttempts: 1 });
  });

  it('bucketed grab (stockBuckets 4): tokens taken once, one order, settled once', async () => {
    const def = await newDrop({ perUserLimit: 3, quantity: 8, stockBuckets: 4 });
    const r = await twice.buckets.grab({ dropId: def.id, fanId: 'fan-1', quantity: 2 }, 4);
    expect(r).toMatchObject({ ok: true, order: { status: 'held', quantity: 2 } });
    expect(await stock(def.id)).toBe(6);
    expect(await count(def.id, 'grab.accepted')).toBe(1);
    expect(await once.buckets.tokensOf(def.id, 4)).toEqual({
      tokens: [2, 2, 2, 2].map((t, k) => (k === bucketOf('fan-1', 4) ? t - 2 : t)),
      inTransit: [0, 0, 0, 0],
    });
    // A refusal's tokens go back once, not twice.
    const refused = await twice.buckets.grab({ dropId: def.id, fanId: 'fan-1', quantity: 2 }, 4);
    expect(refused).toEqual({ ok: false, code: 'LIMIT_REACHED' });
    const { tokens } = await once.buckets.tokensOf(def.id, 4);
    expect(tokens.reduce((a, b) => a + b, 0)).toBe(6);
  });

  it('grab at the per-fan limit: the fan gets the order, not LIMIT_REACHED', async () => {
    const def = await newDrop({ perUserLimit: 1 });
    const r = await twice.grab({ dropId: def.id, fanId: 'fan-1', quantity: 1 });
    expect(r).toMatchObject({ ok: true, order: { status: 'held' } });
    expect(await units(def.id, 'fan-1')).toBe(1);
  });

  it('grab with an Idempotency-Key: one order', async () => {
    const def = await newDrop({ perUserLimit: 5 });
    const r = await twice.grab({
      dropId: def.id,
      fanId: 'fan-1',
      quantity: 1,
      idempotencyKey: 'k',
    });
    expect(r.ok).toBe(true);
    expect(await stock(def.id)).toBe(def.quantity - 1);
    expect(await count(def.id, 'grab.accepted')).toBe(1);
  });

  it('the refusal counts of one flush are added once', async () => {
    const def = await newDrop({ paused: true });
    await Promise.all([1, 2, 3].map(() => twice.grab({ dropId: def.id, fanId: 'f', quantity: 1 })));
    await twice.refusals.flush();
    expect(await once.counters(def.id)).toMatchObject({
      grabAttempts: 3,
      rejections: { SALE_PAUSED: 3 },
    });
    expect(await count(def.id, 'grab.rejected')).toBe(1);
  });

  it('share: counted once, under the channel the first run chose', async () => {
    const def = await newDrop();
    expect(await twice.share(def.id, 'fan-1', 'weibo')).toEqual({ ok: true, value: 'weibo' });
    expect((await once.counters(def.id)).shares).toBe(1);
    expect(await count(def.id, 'share.recorded')).toBe(1);
  });

  it('share on a retired drop: the drop is back in the active index though the first run revived it', async () => {
    const def = await newDrop();
    // What retire_drop.lua leaves: the flag set, the drop out of the index.
    await redis.hset(dropKeys(def.id).drop, 'retired', '1');
    await redis.srem(DROPS_ACTIVE_KEY, def.id);
    expect(await twice.share(def.id, 'fan-1', 'weibo')).toEqual({ ok: true, value: 'weibo' });
    expect(await redis.hget(dropKeys(def.id).drop, 'retired')).toBeNull();
    expect(await redis.sismember(DROPS_ACTIVE_KEY, def.id)).toBe(1);
  });

  it('reserve: one reservation, one referral, the same reservedAt', async () => {
    const def = await newDrop({ reservationRequired: true });
    const r = await twice.reserve(def.id, 'fan-1', 'fan-ref');
    const stored = await once.reserve(def.id, 'fan-1');
    expect(r.ok && stored.ok && r.value.reservedAt).toBe(stored.ok && stored.value.reservedAt);
    expect((await once.counters(def.id)).referrals).toBe(1);
    expect(await count(def.id, 'reservation.created')).toBe(1);
  });

  it('cancel: the units back once, one event, the cancelled order answered', async () => {
    const def = await newDrop();
    const order = await held(def, 'fan-1');
    expect(await twice.cancelOrder(order.id, 'fan-1')).toMatchObject({
      ok: true,
      value: { status: 'cancelled' },
    });
    expect(await stock(def.id)).toBe(def.quantity);
    expect(await units(def.id, 'fan-1')).toBe(0);
    expect(await count(def.id, 'hold.cancelled')).toBe(1);
    expect((await once.counters(def.id)).cancelled).toBe(1);
  });

  it('begin, complete and abort of a payment: one transition each', async () => {
    const def = await newDrop();
    const order = await held(def, 'payer');
    const begun = await twice.beginPayment(order.id, { fanId: 'payer' });
    // The second run meets its own attempt: the order as it stands, which the payment joins.
    expect(begun).toMatchObject({ order: { status: 'paying' } });
    const paying = await once.getOrder(order.id);
    expect(await twice.abortPayment(order.id, paying!.payingUntil!)).toMatchObject({
      ok: true,
      value: { status: 'held' },
    });
    expect((await once.beginPayment(order.id)).ok).toBe(true);
    expect(await twice.completePayment(order.id)).toMatchObject({
      ok: true,
      value: { status: 'paid' },
    });
    // One order.paying per attempt begun (two: the doubled first, then the second), none twice.
    expect(await count(def.id, 'order.paying')).toBe(2);
    expect(await count(def.id, 'order.paid')).toBe(1);
    expect(await once.counters(def.id)).toMatchObject({
      held: 0,
      paid: 1,
      revenueMinor: def.priceMinor,
    });
    expect(await stock(def.id)).toBe(def.quantity - 1);
  });

  it('a rebuild of a lost drop: each stored order restored once', async () => {
    const def = dropDefinition(await redisNow(redis), { reservationRequired: false });
    const at = await redisNow(redis);
    await twice.rebuildDrop(def, [storedOrder(def, '1', 'held', at)]);
    expect(await stock(def.id)).toBe(def.quantity - 2);
    expect(await units(def.id, 'fan-1')).toBe(2);
    expect(await once.counters(def.id)).toMatchObject({ held: 2 });
    expect(await redis.lrange(dropKeys(def.id).fanOrders('fan-1'), 0, -1)).toEqual([
      `${def.id}-${'1'.repeat(16)}`,
    ]);
  });

  it('a rebuild with its standing: each proven reservation, the draw record and each place once', async () => {
    const def = dropDefinition(await redisNow(redis), { allocation: 'draw', quantity: 1 });
    const at = await redisNow(redis);
    const k = dropKeys(def.id);
    // A reservation made again since the loss keeps its own time.
    await redis.hset(k.reservations, 'fan-2', '5');
    const draw = { seedCommitment: 'c'.repeat(64), entrants: 3, winners: 1, committedAt: at };
    await twice.rebuildDrop(
      def,
      [
        {
          id: `${def.id}-w${'0'.repeat(15)}`,
          dropId: def.id,
          fanId: 'fan-1',
          quantity: 1,
          amountMinor: def.priceMinor,
          unitPriceMinor: def.priceMinor,
          discountMinor: 0,
          currency: def.currency,
          status: 'held',
          createdAt: at,
          expiresAt: at + 600_000,
        },
      ],
      0,
      {
        reservedFans: ['fan-1', 'fan-2', 'fan-3'],
        reservedAtOffsetMs: 42,
        draw,
        // fan-1 holds an order: served, so not put in line.
        waitlist: [
          { fanId: 'fan-3', place: 1 },
          { fanId: 'fan-1', place: 2 },
        ],
        sharers: [],
        referrers: [],
        groups: [],
        lost: ['draw seed'],
        rebuiltAt: at,
      },
    );
    expect(await redis.hgetall(k.reservations)).toEqual({
      'fan-1': '42',
      'fan-2': '5',
      'fan-3': '42',
    });
    expect(await redis.hgetall(k.draw)).toEqual(
      Object.fromEntries(Object.entries(draw).map(([f, v]) => [f, String(v)])),
    );
    expect(await redis.zrange(k.waitlist, 0, -1, 'WITHSCORES')).toEqual(['fan-3', '1']);
    expect(await redis.hmget(k.stats, 'rebuiltAt', 'rebuiltLost')).toEqual([
      String(at),
      'draw seed',
    ]);
    // A draw record already there is never overwritten: the first commitment stays the one.
    await once.rebuildDrop(def, [], 0, {
      reservedFans: [],
      reservedAtOffsetMs: 0,
      draw: { ...draw, seedCommitment: 'd'.repeat(64) },
      waitlist: [],
      sharers: [],
      referrers: [],
      groups: [],
      lost: [],
      rebuiltAt: at,
    });
    expect(await redis.hget(k.draw, 'seedCommitment')).toBe('c'.repeat(64));
  });

  it("a rebuild of a campaign drop: each order's terms, each group, share and referrer once", async () => {
    const def = dropDefinition(await redisNow(redis), {
      quantity: 5,
      groupSize: 2,
      groupSeconds: 600,
      shareDiscountMinor: 10,
      referralRewardMinor: 20,
    });
    const at = await redisNow(redis);
    const k = dropKeys(def.id);
    const amount = def.priceMinor - 10;
    const grouped: InventoryOrder = {
      id: `${def.id}-${'1'.repeat(16)}`,
      dropId: def.id,
      fanId: 'fan-1',
      quantity: 1,
      amountMinor: amount,
      unitPriceMinor: amount,
      discountMinor: 10,
      currency: def.currency,
      status: 'grouped',
      createdAt: at,
      expiresAt: at + 600_000,
      referrerId: 'fan-9',
      rewardMinor: 20,
      groupId: 'g'.padEnd(17, '1'),
      groupedAt: at + 1,
    };
    await twice.rebuildDrop(def, [grouped], 0, {
      reservedFans: [],
      reservedAtOffsetMs: 0,
      waitlist: [],
      sharers: ['fan-1'],
      referrers: [{ fanId: 'fan-1', referrerId: 'fan-9' }],
      groups: [
        {
          id: grouped.groupId!,
          size: 2,
          startedAt: at,
          expiresAt: at + 600_000,
          status: 'open',
          members: 1,
          paidMembers: 1,
          orderIds: [grouped.id],
        },
      ],
      lost: [],
      rebuiltAt: at,
    });
    expect(await once.getOrder(grouped.id)).toMatchObject({
      status: 'grouped',
      referrerId: 'fan-9',
      rewardMinor: 20,
      groupId: grouped.groupId,
      groupedAt: at + 1,
    });
    expect(await redis.hmget(k.stats, 'grouped', 'held', 'escrowMinor')).toEqual([
      '1',
      null,
      String(amount),
    ]);
    expect(await units(def.id, 'fan-1')).toBe(1);
    expect(await stock(def.id)).toBe(4);
    expect(await redis.hgetall(k.group(grouped.groupId!))).toEqual({
      id: grouped.groupId,
      dropId: def.id,
      size: '2',
      startedAt: String(at),
      expiresAt: String(at + 600_000),
      status: 'open',
      members: '1',
      paidMembers: '1',
    });
    expect(await redis.smembers(k.groupMembers(grouped.groupId!))).toEqual([grouped.id]);
    expect(await redis.zscore(k.groups, grouped.groupId!)).toBe(String(at + 600_000));
    expect(await redis.hget(k.stats, 'groupsStarted')).toBe('1');
    expect(await redis.smembers(k.sharers)).toEqual(['fan-1']);
    expect(await redis.hgetall(k.referrers)).toEqual({ 'fan-1': 'fan-9' });
  });

  it('begin and complete of a refund: one transition each, the unit back once', async () => {
    const def = await newDrop();
    const order = await held(def, 'refunded');
    expect((await once.beginPayment(order.id)).ok).toBe(true);
    expect((await once.completePayment(order.id)).ok).toBe(true);
    // The second run meets the refund its first run began: it joins it.
    expect(await twice.beginRefund(order.id, 'damaged')).toMatchObject({
      ok: true,
      value: { order: { status: 'refunding' } },
    });
    expect(await twice.completeRefund(order.id)).toMatchObject({
      ok: true,
      value: { status: 'refunded' },
    });
    expect(await count(def.id, 'order.refunded')).toBe(1);
    expect(await once.counters(def.id)).toMatchObject({ paid: 0, refunded: 1, revenueMinor: 0 });
    expect(await stock(def.id)).toBe(def.quantity);
    expect(await units(def.id, 'refunded')).toBe(0);
    expect(await redis.zcard(dropKeys(def.id).refunding)).toBe(0);
  });

  it('a rebuild with a refund under way: refunding in the index once, counted as paid once', async () => {
    const def = dropDefinition(await redisNow(redis), { reservationRequired: false });
    const at = await redisNow(redis);
    const id = `${def.id}-${'2'.repeat(16)}`;
    await twice.rebuildDrop(def, [
      {
        ...storedOrder(def, '2', 'refunding', at - 5_000),
        paidAt: at - 4_000,
        refundReason: 'damaged',
        refundingSince: at - 3_000,
      },
    ]);
    const k = dropKeys(def.id);
    expect(await once.getOrder(id)).toMatchObject({
      status: 'refunding',
      refundingSince: at - 3_000,
      refundReason: 'damaged',
    });
    expect(await redis.zrange(k.refunding, 0, -1, 'WITHSCORES')).toEqual([id, String(at - 3_000)]);
    expect(await once.refundsUnderWay(def.id, at, 10)).toEqual([
      { orderId: id, attempt: at - 3_000 },
    ]);
    expect(await once.counters(def.id)).toMatchObject({
      paid: 2,
      revenueMinor: 2 * def.priceMinor,
    });
    expect(await stock(def.id)).toBe(def.quantity - 2);
    expect(await units(def.id, 'fan-1')).toBe(2);
    // The refund recovery's last step, as after the wallet's refund: the units back once.
    expect(await once.completeRefund(id)).toMatchObject({
      ok: true,
      value: { status: 'refunded' },
    });
    expect(await stock(def.id)).toBe(def.quantity);
    expect(await once.counters(def.id)).toMatchObject({ paid: 0, refunded: 2, revenueMinor: 0 });
  });

  it('a rebuild with a payment in flight: paying with its own attempt, due once, counted as held once', async () => {
    const def = dropDefinition(await redisNow(redis), { reservationRequired: false });
    const at = await redisNow(redis);
    const id = `${def.id}-${'3'.repeat(16)}`;
    const attempt = at + 15_000;
    await twice.rebuildDrop(def, [
      { ...storedOrder(def, '3', 'paying', at - 5_000), payingUntil: attempt },
    ]);
    expect(await once.getOrder(id)).toMatchObject({ status: 'paying', payingUntil: attempt });
    expect(await redis.zrange(dropKeys(def.id).holds, 0, -1, 'WITHSCORES')).toEqual([
      id,
      String(attempt),
    ]);
    expect(await once.counters(def.id)).toMatchObject({ held: 2 });
    expect(await stock(def.id)).toBe(def.quantity - 2);
    expect(await units(def.id, 'fan-1')).toBe(2);
    // The attempt's own abort (its caller heard `declined`) matches it: held again, once.
    expect(await once.abortPayment(id, attempt)).toMatchObject({
      ok: true,
      value: { status: 'held' },
    });
    // A new attempt is a later number than the restored one (lastAttempt came back too).
    const again = await once.beginPayment(id, { payingTtlMs: 1 });
    expect(again.ok && (again.value.payingUntil ?? 0) > attempt).toBe(true);
  });

  it('abort of a refund the wallet declined: paid again once, one event, the unit still paid', async () => {
    const def = await newDrop();
    const order = await held(def, 'declined');
    expect((await once.beginPayment(order.id)).ok).toBe(true);
    expect((await once.completePayment(order.id)).ok).toBe(true);
    const begun = await once.beginRefund(order.id, 'damaged');
    const attempt = begun.ok ? begun.value.order.refundingSince : undefined;
    if (attempt === undefined) throw new Error('begin_refund gave no attempt');
    // The first run puts it back to paid; the second finds it paid and changes nothing, and
    // answers so (aborted: false), which is what the caller reads.
    expect(await twice.abortRefund(order.id, attempt)).toMatchObject({
      ok: true,
      value: { aborted: false, order: { status: 'paid' } },
    });
    expect(await count(def.id, 'order.refund_declined')).toBe(1);
    expect(await redis.hget(dropKeys(def.id).order(order.id), 'refundingSince')).toBeNull();
    expect(await redis.zcard(dropKeys(def.id).refunding)).toBe(0);
    expect(await once.counters(def.id)).toMatchObject({
      paid: 1,
      refunded: 0,
      revenueMinor: def.priceMinor,
    });
    expect(await stock(def.id)).toBe(def.quantity - 1);
    expect(await units(def.id, 'declined')).toBe(1);
  });

  it('a group failed at its deadline and its refunded member settled: each once', async () => {
    const def = await newDrop({ groupSize: 3, groupSeconds: 600 });
    const k = dropKeys(def.id);
    const { first, second, groupId } = await startGroup(once, def, 'in-escrow', 'unpaid');
    expect((await once.beginPayment(first.order.id)).ok).toBe(true);
    expect((await once.completePayment(first.order.id)).ok).toBe(true);
    await moveGroupDeadline(redis, def.id, groupId, (await redisNow(redis)) - 1);
    // fail_group: open -> failing and the unpaid hold expired, once; the second run answers
    // the member to refund again.
    expect(await twice.failGroup(def.id, groupId)).toEqual({
      step: 'failing',
      paying: 0,
      grouped: [first.order.id],
    });
    expect(await once.group(def.id, groupId)).toMatchObject({ status: 'failing' });
    expect(await count(def.id, 'hold.expired')).toBe(1);
    expect(await once.getOrder(second.order.id)).toMatchObject({ status: 'expired' });
    expect(await stock(def.id)).toBe(def.quantity - 1);
    expect(await once.counters(def.id)).toMatchObject({ held: 0, expired: 1 });
    expect(await redis.hget(k.stats, 'grouped')).toBe('1');
    // settle_failed_group: the member refunded from the escrow and the group failed, once.
    expect(await twice.settleFailedGroup(def.id, groupId, [first.order.id])).toEqual({
      failed: true,
    });
    expect(await once.getOrder(first.order.id)).toMatchObject({ status: 'refunded' });
    expect(await once.group(def.id, groupId)).toMatchObject({ status: 'failed' });
    expect(await count(def.id, 'order.refunded')).toBe(1);
    expect(await count(def.id, 'group.failed')).toBe(1);
    expect(await once.counters(def.id)).toMatchObject({ refunded: 1 });
    expect(await redis.hmget(k.stats, 'grouped', 'escrowMinor', 'groupsFailed')).toEqual([
      '0',
      '0',
      '1',
    ]);
    expect(await stock(def.id)).toBe(def.quantity);
    expect([await units(def.id, 'in-escrow'), await units(def.id, 'unpaid')]).toEqual([0, 0]);
  });

  it('group buy: a group started, joined, paid into the escrow and finished once each', async () => {
    const def = await newDrop({ groupSize: 2, groupSeconds: 600 });
    const k = dropKeys(def.id);
    const { first, second, groupId } = await startGroup(twice, def, 'starter', 'joiner');
    expect(second.order.groupId).toBe(groupId);
    expect(await once.group(def.id, groupId)).toMatchObject({ members: 2, status: 'open' });
    expect(await once.groupMembers(def.id, groupId)).toHaveLength(2);
    expect(await redis.hget(k.stats, 'groupsStarted')).toBe('1');
    for (const o of [first.order, second.order]) {
      expect((await once.beginPayment(o.id)).ok).toBe(true);
      expect(await twice.completePayment(o.id)).toMatchObject({
        ok: true,
        value: { status: 'grouped' },
      });
    }
    expect(await once.group(def.id, groupId)).toMatchObject({
      paidMembers: 2,
      status: 'completing',
    });
    expect(await redis.hget(k.stats, 'escrowMinor')).toBe(String(2 * def.priceMinor));
    expect(await twice.finishGroup(def.id, groupId)).toEqual({ ok: true, value: undefined });
    expect(await once.group(def.id, groupId)).toMatchObject({ status: 'complete' });
    expect(await count(def.id, 'group.completed')).toBe(1);
    expect(await count(def.id, 'order.paid')).toBe(2);
    expect(await once.counters(def.id)).toMatchObject({
      paid: 2,
      revenueMinor: 2 * def.priceMinor,
    });
    expect(await redis.hmget(k.stats, 'escrowMinor', 'groupsCompleted')).toEqual(['0', '1']);
    expect(await stock(def.id)).toBe(def.quantity - 2);
    expect([await units(def.id, 'starter'), await units(def.id, 'joiner')]).toEqual([1, 1]);
  });

  it('expiry: the units back once', async () => {
    const def = await newDrop();
    const order = await held(def, 'late');
    await moveHoldDeadline(redis, order.id, (await redisNow(redis)) - 1);
    await twice.expireDue(def.id);
    expect(await stock(def.id)).toBe(def.quantity);
    expect(await count(def.id, 'hold.expired')).toBe(1);
    expect((await once.counters(def.id)).expired).toBe(1);
  });

  it('join the waitlist: one place, one event', async () => {
    const def = await newDrop({ quantity: 1 });
    await held(def, 'first');
    expect(await twice.joinWaitlist(def.id, 'queued')).toMatchObject({
      ok: true,
      value: { position: 1 },
    });
    expect(await redis.zcard(dropKeys(def.id).waitlist)).toBe(1);
    expect(await count(def.id, 'waitlist.joined')).toBe(1);
  });

  it('a cancel with a fan in line: one unit passed down, one new hold', async () => {
    const def = await newDrop({ quantity: 1 });
    const order = await held(def, 'leaver');
    await once.joinWaitlist(def.id, 'next');
    await once.joinWaitlist(def.id, 'after');
    await twice.cancelOrder(order.id, 'leaver');
    expect(await count(def.id, 'hold.backfilled')).toBe(1);
    expect(await units(def.id, 'next')).toBe(1);
    expect(await units(def.id, 'after')).toBe(0);
    expect(await redis.zrange(dropKeys(def.id).waitlist, 0, -1)).toEqual(['after']);
    expect(await stock(def.id)).toBe(0);
    expect(await once.counters(def.id)).toMatchObject({ held: 1, backfilled: 1, cancelled: 1 });
  });

  it('the units a pause parked go down the line once at the resume', async () => {
    const def = await newDrop({ quantity: 2 });
    const orders = [await held(def, 'a'), await held(def, 'b')];
    await once.joinWaitlist(def.id, 'next');
    await once.setPaused(def.id, true);
    for (const o of orders) await once.cancelOrder(o.id);
    expect(await redis.llen(dropKeys(def.id).parked)).toBe(2);
    await once.setPaused(def.id, false);
    expect(await twice.handDownParked(def.id, 1)).toMatchObject({ stillParked: 0 });
    expect(await count(def.id, 'hold.backfilled')).toBe(1);
    expect(await units(def.id, 'next')).toBe(1);
    expect(await stock(def.id)).toBe(1);
    expect(await redis.llen(dropKeys(def.id).parked)).toBe(0);
  });

  it('drops: created, edited, paused, cancelled and phase-synced once each', async () => {
    const now = await redisNow(redis);
    const def = dropDefinition(now, {
      reservationOpensAt: now + 60_000,
      reservationClosesAt: now + 120_000,
      saleStartsAt: now + 120_000,
    });
    await twice.createDrop(def);
    expect(await stock(def.id)).toBe(def.quantity);
    expect(await twice.beginEdit(def.id, 2)).toMatchObject({ ok: true });
    expect(await twice.syncDrop({ ...def, quantity: def.quantity + 5, version: 2 })).toEqual({
      status: 'synced',
    });
    expect(await stock(def.id)).toBe(def.quantity + 5);
    await twice.rebuildDrop(def, []);
    await twice.setPaused(def.id, true);
    await twice.syncPhase(def.id);
    expect(await twice.cancelDrop(def.id)).toMatchObject({ ok: true });
    expect(await eventTypes(def.id)).toEqual([
      'drop.created',
      'drop.updated',
      'drop.paused',
      'drop.phase_changed',
      'drop.cancelled',
    ]);
  });
});

/**
 * Defines the inventory's scripts on `redis` and replaces each with one that runs it twice with
 * the same arguments and answers the second run (Inventory then finds them already defined).
 */
function runEveryScriptTwice(redis: Redis): Redis {
  defineLuaScripts(redis, INVENTORY_SCRIPTS.prefix, INVENTORY_SOURCES);
  const commands = redis as unknown as Record<string, LuaCall>;
  for (const name of Object.keys(INVENTORY_SOURCES)) {
    const command = `${INVENTORY_SCRIPTS.prefix}_${name}`;
    const run = commands[command].bind(redis);
    commands[command] = async (...args) => {
      await run(...args);
      return run(...args);
    };
  }
  return redis;
}
