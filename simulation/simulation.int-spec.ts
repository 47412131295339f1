import { dropDefinition, dropKeys, soakRounds, TEST_SLOT } from '@flashdrop/testing';
import { checkStep, InvariantBroken } from './checks';
import { Coverage } from './coverage';
import { SaleModel } from './model';
import { runSeed } from './simulate';
import { closeTruncator, World } from './world';

/**
 * A bounded number of the simulation's seeds in `npm test` (the same seeds every run, so a
 * failure here replays with `npm run simulate -- --seed S`); `npm run test:soak` runs
 * SOAK_ROUNDS times as many. The thousand-seed runs are `npm run simulate -- --seeds 1000`.
 */
const SEEDS = 24 * soakRounds();

describe('the seeded simulation of a drop (simulation/, docs/simulation.md)', () => {
  let world: World;

  beforeAll(async () => {
    world = await World.open({
      redisPortBase: 6581,
      databaseName: 'simulation',
      topicPrefix: `simtest${TEST_SLOT}.`,
    });
  }, 120_000);

  afterAll(async () => {
    await world?.close();
    await closeTruncator();
  });

  it(`keeps every invariant after every step of ${SEEDS} seeds`, async () => {
    const coverage = new Coverage();
    const failures: string[] = [];
    for (let seed = 0; seed < SEEDS; seed++) {
      const result = await runSeed(world, seed);
      coverage.merge(result.coverage);
      if (result.failure) failures.push(result.failure);
    }
    expect(failures).toEqual([]);
    // The seeds drove the sale, not only its refusals.
    for (const outcome of ['grab:ok', 'pay:paid', 'cancel:ok', 'resume:ok', 'credit']) {
      expect(coverage.get(outcome)).toBeGreaterThan(0);
    }
    // Refunds moved money back, referral rewards were paid, members-only drops refused fans
    // without the tier (their reversals on refunds, and the rest, are counted by the coverage
    // of `npm run simulate`: too rare for 24 seeds to promise).
    const refunded = [...coverage.counts.keys()].filter(
      (k) => k.startsWith('refund') && k.includes(':refunded'),
    );
    expect(refunded.length).toBeGreaterThan(0);
    for (const done of ['referral-reward', 'grab:without-the-tier']) {
      expect(coverage.get(done)).toBeGreaterThan(0);
    }
    // Group buy: groups were started, joined, completed by their last payment and failed at
    // their deadline (purchases on a group-buy drop join open groups, so groups fill).
    for (const done of ['group-start', 'group-join:ok', 'group-complete', 'group-fail']) {
      expect(coverage.get(done)).toBeGreaterThan(0);
    }
    expect(coverage.steps).toBeGreaterThan(SEEDS * 20);
    // Invariant 7 was checked at the end of every seed (and again after the relay re-sent).
    expect(coverage.get('invariant-7')).toBe(SEEDS);
  }, 900_000);

  it('catches a broken sale: units that appear from nowhere, money the model did not move', async () => {
    // The checks themselves must be able to fail: bend the stored truth behind the model's back.
    await runSeed(world, 0);
    const [dropId] = await world.inventory.dropIds();
    const sale = (await world.inventory.storedSale(dropId))!;
    const model = new SaleModel(sale.definition, ['fan-0', 'fan-1']);
    model.learn(sale.orders);
    for (const o of sale.orders) model.acknowledged.add(o.id);
    // The seed's own model saw every refund asked (a seed refunds paid orders often now); this
    // fresh one learns that from the orders, or it would call each refund unasked.
    for (const o of sale.orders) {
      if (o.status === 'refunding' || o.status === 'refunded') model.refundBegun.add(o.id);
    }
    for (const fan of model.fans) {
      model.credited.set(fan, await world.ledger.balance(fan, sale.definition.currency));
    }
    await checkStep(world, model);

    await world.redis.incr(dropKeys(dropId).stock);
    await expect(checkStep(world, model)).rejects.toThrow(/invariant 1 \(no oversell\)/);
    await world.redis.decr(dropKeys(dropId).stock);

    await world.ledger.credit({
      fanId: 'fan-1',
      amountMinor: 1,
      currency: sale.definition.currency,
      reference: 'behind-the-model',
    });
    const broken = checkStep(world, model);
    await expect(broken).rejects.toThrow(InvariantBroken);
    await expect(broken).rejects.toThrow(/invariant 4: fan fan-1 holds/);
  }, 120_000);

  it("catches a group whose seats do not match its members' orders", async () => {
    // A group-buy drop with one group of one member, as a grab answers it; then a seat taken
    // behind the model's back (the audit counts live members only: this is the model's check).
    await world.reset();
    const def = dropDefinition(await world.now(), {
      brandId: 'brand-sim',
      quantity: 3,
      reservationRequired: false,
      reservationOpensAt: undefined,
      reservationClosesAt: undefined,
      groupSize: 2,
      groupSeconds: 60,
    });
    await world.inventory.createDrop(def);
    await world.sales.drops.insert(def);
    const model = new SaleModel(def, ['fan-0', 'fan-1']);
    const grab = await world.inventory.grab({ dropId: def.id, fanId: 'fan-0', quantity: 1 });
    if (!grab.ok) throw new Error(`the grab was refused: ${grab.code}`);
    model.orderIds.push(grab.order.id);
    model.acknowledged.add(grab.order.id);
    await checkStep(world, model);

    const groupId = grab.order.groupId!;
    await world.redis.hincrby(dropKeys(def.id).group(groupId), 'members', 1);
    await expect(checkStep(world, model)).rejects.toThrow(
      `group ${groupId} (open): members 2, live member orders 1`,
    );
  }, 120_000);

  it('catches a refund nobody asked for (invariant 9)', async () => {
    // The first seed whose sale made an order; then one order marked refunded behind the model.
    let sale;
    for (let seed = 0; !sale?.orders.length; seed++) {
      await runSeed(world, seed);
      const [dropId] = await world.inventory.dropIds();
      sale = (await world.inventory.storedSale(dropId))!;
    }
    const model = new SaleModel(sale.definition, [...new Set(sale.orders.map((o) => o.fanId))]);
    model.learn(sale.orders);
    for (const o of sale.orders) model.acknowledged.add(o.id);
    for (const fan of model.fans) {
      model.credited.set(fan, await world.ledger.balance(fan, sale.definition.currency));
    }
    const paid = sale.orders.filter((o) => ['paid', 'refunded', 'refunding'].includes(o.status));
    for (const o of paid) {
      model.paidAck.add(o.id);
      if (o.status !== 'paid') model.refundBegun.add(o.id);
    }
    await checkStep(world, model);

    const order = sale.orders[0];
    await world.redis.hset(dropKeys(sale.definition.id).order(order.id), 'status', 'refunded');
    await expect(checkStep(world, model)).rejects.toThrow(
      /invariant 9: order \S+ is refunded, but no refund was asked/,
    );
  }, 120_000);
});
