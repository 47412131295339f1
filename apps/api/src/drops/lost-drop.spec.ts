import { entrantsDigest, seedCommitment, shuffle } from '@flashdrop/fair';
import { DropDefinition, InventoryOrder } from '@flashdrop/inventory';
import type { PublishedDraw } from '@flashdrop/sales';
import { groupBuyGroups, planRebuild } from './lost-drop';

const T0 = Date.UTC(2030, 0, 1);
const definition = (over: Partial<DropDefinition> = {}): DropDefinition => ({
  id: 'd0123456789ab',
  brandId: 'brand',
  title: 't',
  sku: 's',
  priceMinor: 100,
  currency: 'CNY',
  quantity: 2,
  perUserLimit: 1,
  reservationRequired: true,
  reservationOpensAt: T0 + 1_000,
  reservationClosesAt: T0 + 10_000,
  saleStartsAt: T0 + 20_000,
  saleEndsAt: T0 + 100_000,
  holdSeconds: 60,
  allocation: 'first_come',
  paused: false,
  cancelled: false,
  createdAt: T0,
  version: 1,
  ...over,
});
const order = (fanId: string, id = `d0123456789ab-${fanId}`): InventoryOrder => ({
  id,
  dropId: 'd0123456789ab',
  fanId,
  quantity: 1,
  amountMinor: 100,
  unitPriceMinor: 100,
  discountMinor: 0,
  currency: 'CNY',
  status: 'held',
  createdAt: T0 + 21_000,
  expiresAt: T0 + 81_000,
});
const entrants = ['a', 'b', 'c', 'd', 'e'];
const seed = 'ab'.repeat(32);
const published = (drawn: boolean): PublishedDraw => ({
  dropId: 'd0123456789ab',
  algorithm: 'fisher-yates-sha256-ctr-v1',
  seedCommitment: seedCommitment(seed),
  entrants: entrants.length,
  entrantsDigest: entrantsDigest(entrants),
  pageSize: 1000,
  committedAt: T0 + 10_500,
  ...(drawn ? { seed, winners: shuffle(entrants, seed).slice(0, 2), drawnAt: T0 + 20_500 } : {}),
});

describe('planRebuild (what a lost drop comes back with)', () => {
  it('a first-come drop without reservations: its line is named lost, it reopens', () => {
    const plan = planRebuild({
      definition: definition({ reservationRequired: false }),
      orders: [order('a')],
      now: T0 + 30_000,
    });
    expect(plan.pause).toBe(false);
    expect(plan.standing.reservedFans).toEqual([]);
    expect(plan.standing.lost).toEqual(['waitlist']);
    expect(plan.standing.draw).toBeUndefined();
  });

  it('a reservation drop: fans with an order get their reservation back; the rest are lost, so it reopens paused once the window closed', () => {
    const during = planRebuild({
      definition: definition(),
      orders: [order('a'), order('b')],
      now: T0 + 5_000,
    });
    expect([...during.standing.reservedFans].sort()).toEqual(['a', 'b']);
    // The last instant of the window, as ms since createdAt: they had reserved by then.
    expect(during.standing.reservedAtOffsetMs).toBe(9_999);
    expect(during.standing.lost).toEqual(['reservations', 'waitlist']);
    // The window is open: a fan whose reservation was lost can reserve again.
    expect(during.pause).toBe(false);
    const after = planRebuild({ definition: definition(), orders: [order('a')], now: T0 + 30_000 });
    expect(after.pause).toBe(true);
    // Once the sale ended there is nothing to pause.
    const over = planRebuild({ definition: definition(), orders: [], now: T0 + 200_000 });
    expect(over.pause).toBe(false);
  });

  it('a drawn draw: its record, seed and line come back, the served losers left out; nothing lost', () => {
    const order5 = shuffle(entrants, seed);
    const served = order5[2]; // the first in line, who got a unit passed down
    const plan = planRebuild({
      definition: definition({ allocation: 'draw' }),
      orders: [order(order5[0]), order(order5[1]), order(served)],
      draw: published(true),
      entrants,
      now: T0 + 30_000,
    });
    expect(plan.pause).toBe(false);
    expect(plan.standing.lost).toEqual([]);
    expect([...plan.standing.reservedFans].sort()).toEqual(entrants);
    expect(plan.standing.draw).toEqual({
      seed,
      seedCommitment: seedCommitment(seed),
      entrants: 5,
      entrantsDigest: entrantsDigest(entrants),
      winners: 2,
      committedAt: T0 + 10_500,
      drawnAt: T0 + 20_500,
      waitApplied: 3,
      winApplied: 2,
    });
    // The line by rank (the script leaves out fans with an order, here `served`).
    expect(plan.standing.waitlist).toEqual(
      order5.slice(2).map((fanId, i) => ({ fanId, place: 2 + i })),
    );
  });

  it('a committed draw not yet drawn: its commitment comes back without the seed, which is lost; paused', () => {
    const plan = planRebuild({
      definition: definition({ allocation: 'draw' }),
      orders: [],
      draw: published(false),
      entrants,
      now: T0 + 15_000,
    });
    expect(plan.pause).toBe(true);
    expect(plan.standing.lost).toEqual(['draw seed']);
    expect(plan.standing.draw).toMatchObject({ seedCommitment: seedCommitment(seed), winners: 2 });
    expect(plan.standing.draw).not.toHaveProperty('seed');
    expect(plan.standing.waitlist).toEqual([]);
    expect([...plan.standing.reservedFans].sort()).toEqual(entrants);
  });

  it('a draw drop before its commitment: reservations lost, paused once the window closed', () => {
    const open = planRebuild({
      definition: definition({ allocation: 'draw' }),
      orders: [],
      now: T0 + 5_000,
    });
    expect(open).toMatchObject({ pause: false, standing: { lost: ['reservations'] } });
    const closed = planRebuild({
      definition: definition({ allocation: 'draw' }),
      orders: [],
      now: T0 + 12_000,
    });
    expect(closed.pause).toBe(true);
  });

  it('the share record and the referrers come back from the orders that prove them', () => {
    const plan = planRebuild({
      definition: definition({
        reservationRequired: false,
        shareDiscountMinor: 10,
        referralRewardMinor: 5,
      }),
      orders: [
        { ...order('a'), discountMinor: 10, unitPriceMinor: 90, amountMinor: 90 },
        { ...order('b'), referrerId: 'r', rewardMinor: 5 },
        order('c'),
      ],
      now: T0 + 30_000,
    });
    expect(plan.standing.sharers).toEqual(['a']);
    expect(plan.standing.referrers).toEqual([{ fanId: 'b', referrerId: 'r' }]);
    // Who else shared, and the referrers of reservations without an order, nothing proves:
    // named; past the window nobody can give a referrer back, so the drop waits for an operator.
    expect(plan.standing.lost).toEqual(['waitlist', 'shares', 'referrers']);
    expect(plan.pause).toBe(true);
    // A drop without either campaign names neither.
    const plain = planRebuild({
      definition: definition({ reservationRequired: false }),
      orders: [order('a')],
      now: T0 + 30_000,
    });
    expect(plain.standing.lost).toEqual(['waitlist']);
    expect(plain.standing).toMatchObject({ sharers: [], referrers: [], groups: [] });
  });

  it("a reservation drop's referrers are known from its orders: only unserved reservations lose theirs", () => {
    const during = planRebuild({
      definition: definition({ referralRewardMinor: 5 }),
      orders: [{ ...order('a'), referrerId: 'r', rewardMinor: 5 }],
      now: T0 + 5_000,
    });
    expect(during.standing.lost).toEqual(['reservations', 'waitlist', 'referrers']);
    expect(during.pause).toBe(false);
  });

  describe('group buy', () => {
    const groupDrop = definition({ reservationRequired: false, groupSize: 2, groupSeconds: 60 });
    const member = (fanId: string, groupId: string, over: Partial<InventoryOrder> = {}) => ({
      ...order(fanId),
      groupId,
      ...over,
    });
    const started = T0 + 21_000;

    it('each group comes back from its member orders, in the state they prove', () => {
      const groups = groupBuyGroups(
        groupDrop,
        [
          // g1: one member paid into the escrow, one held: open.
          member('a', 'g1', { status: 'grouped', groupedAt: started + 1_000 }),
          member('b', 'g1', { createdAt: started + 2_000 }),
          // g2: both seats in the escrow before the deadline: completing (the sweeper finishes).
          member('c', 'g2', { status: 'grouped', groupedAt: started + 3_000 }),
          member('d', 'g2', { status: 'grouped', groupedAt: started + 4_000 }),
          // g3: paid (finish_group pays every member at once): complete.
          member('e', 'g3', { status: 'paid', paidAt: started + 5_000 }),
          member('f', 'g3', { status: 'paid', paidAt: started + 5_000 }),
          // g4: its one member's hold expired, past the deadline: failed.
          member('g', 'g4', { status: 'expired' }),
        ],
        started + 70_000,
      );
      expect(groups).toEqual([
        expect.objectContaining({ id: 'g1', status: 'open', members: 2, paidMembers: 1 }),
        expect.objectContaining({ id: 'g2', status: 'completing', settledAt: started + 4_000 }),
        expect.objectContaining({ id: 'g3', status: 'complete', settledAt: started + 5_000 }),
        expect.objectContaining({ id: 'g4', status: 'failed', members: 0 }),
      ]);
      expect(groups![0]).toMatchObject({
        startedAt: started,
        expiresAt: started + 60_000,
        orderIds: ['d0123456789ab-a', 'd0123456789ab-b'],
      });
    });

    it('member orders stored without their group: groups lost, the drop paused', () => {
      const plan = planRebuild({
        definition: groupDrop,
        orders: [member('a', 'g1'), order('b')],
        now: T0 + 30_000,
      });
      expect(plan.standing.groups).toEqual([]);
      expect(plan.standing.lost).toContain('groups');
      expect(plan.pause).toBe(true);
      const grouped = planRebuild({
        definition: groupDrop,
        orders: [member('a', 'g1', { status: 'grouped' })],
        now: T0 + 30_000,
      });
      expect(grouped.standing.lost).toContain('groups');
    });
  });
});
