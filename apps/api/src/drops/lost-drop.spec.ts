import { entrantsDigest, seedCommitment, shuffle } from '@flashdrop/fair';
import { DropDefinition, InventoryOrder } from '@flashdrop/inventory';
import type { PublishedDraw } from '@flashdrop/sales';
import { planRebuild } from './lost-drop';

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
});
