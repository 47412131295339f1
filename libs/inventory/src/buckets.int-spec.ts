import { OutboxStreamFields } from '@flashdrop/events';
import { RedisClient } from '@flashdrop/persistence';
import {
  createOpenDrop,
  SaleRedisFixture,
  dropSnapshot,
  moveHoldDeadline,
  outboxEvents,
  redisNow,
  roundNumbers,
  setDropTimes,
  slotPort,
  snapshotDiff,
} from '@flashdrop/testing';
import { bucketKeys, dropKeys } from './keys';
import { bucketOf, bucketShares } from './buckets';
import { DropDefinition, GrabOutcome, Inventory } from './index';

/**
 * Drops split into stock buckets (buckets.ts) against a real Redis of this test's own; under
 * npm run test:cluster a Redis Cluster of six of its own, where the four buckets of a drop and
 * the drop itself sit on different slots (most on different primaries). No worker runs here:
 * the test runs the sweep itself.
 */
describe('stock buckets (Lua scripts on the real Redis)', () => {
  jest.setTimeout(120_000);
  const sale = new SaleRedisFixture({
    port: slotPort(6490),
    clusterFirstPort: slotPort(7900),
    clientCount: 6,
  });
  let redis: RedisClient;
  let inventory: Inventory;
  // Several connections (each its own Inventory, as API instances are), interleaving for real.
  let clients: Inventory[];

  beforeAll(async () => ({ redis, inventory, clients } = await sale.open()), 60_000);
  afterAll(() => sale.close());

  const bucketed = (overrides: Partial<DropDefinition> = {}) =>
    createOpenDrop(inventory, { stockBuckets: 4, ...overrides });

  function grabVia(
    client: Inventory,
    dropId: string,
    fanId: string,
    quantity = 1,
    idempotencyKey?: string,
  ): Promise<GrabOutcome> {
    return client.buckets.grab({ dropId, fanId, quantity, idempotencyKey }, 4);
  }

  /** Everything that must add up on a bucketed drop once nothing is in flight. */
  async function ledger(def: DropDefinition) {
    const k = dropKeys(def.id);
    const [stock, fans, holds, stats] = await Promise.all([
      redis.get(k.stock),
      redis.hgetall(k.fans),
      redis.zrange(k.holds, 0, -1),
      redis.hgetall(k.stats),
    ]);
    const orders = await Promise.all(holds.map((id) => redis.hgetall(k.order(id))));
    const heldBy = new Map<string, number>();
    for (const o of orders) heldBy.set(o.fanId, (heldBy.get(o.fanId) ?? 0) + Number(o.quantity));
    const { tokens, inTransit } = await inventory.buckets.tokensOf(def.id, 4);
    return {
      stock: Number(stock),
      heldUnits: orders.reduce((sum, o) => sum + Number(o.quantity), 0),
      heldBy,
      fans: Object.fromEntries(Object.entries(fans).map(([f, v]) => [f, Number(v)])),
      statsHeld: Number(stats.held ?? 0),
      tokens: tokens.reduce((a, b) => a + b, 0),
      inTransit: inTransit.reduce((a, b) => a + b, 0),
    };
  }

  async function acceptedSeqs(dropId: string): Promise<number[]> {
    const entries = await redis.xrange(dropKeys(dropId).events, '-', '+');
    return entries
      .map(([, flat]) => {
        const f: Record<string, string> = {};
        for (let i = 0; i < flat.length; i += 2) f[flat[i]] = flat[i + 1];
        return f;
      })
      .filter((f) => f[OutboxStreamFields.type] === 'grab.accepted')
      .map((f) => Number(JSON.parse(f[OutboxStreamFields.data]).seq));
  }

  it('splits the quantity over the buckets, each under its own hash tag', async () => {
    const def = await bucketed({ quantity: 10 });
    expect((await inventory.buckets.tokensOf(def.id, 4)).tokens).toEqual([3, 3, 2, 2]);
    expect(bucketShares(10, 4)).toEqual([3, 3, 2, 2]);
    expect(await redis.get(dropKeys(def.id).stock)).toBe('10');
    expect(await inventory.buckets.countOf(def.id)).toBe(4);
    const tags = [0, 1, 2, 3].map((b) => /^\{[^}]+\}/.exec(bucketKeys(def.id, b).tokens)?.[0]);
    expect(new Set([...tags, `{d:${def.id}}`]).size).toBe(5);
    // A retried creation adds no tokens (SET NX), even to a bucket that gave some out.
    expect((await grabVia(inventory, def.id, 'fan-1')).ok).toBe(true);
    await inventory.createDrop(def);
    const after = await ledger(def);
    expect(after.tokens + after.heldUnits).toBe(10);
  });

  it.each(roundNumbers(2))(
    '2,000 grabs racing over a 4-bucket drop with perUserLimit 2 sell exactly its quantity, no fan over the limit (round %i)',
    async () => {
      const quantity = 600;
      const def = await bucketed({ quantity, perUserLimit: 2 });
      // 400 fans, 2,000 grabs: five at once from each fan (demand 800 units > 600).
      const requests = Array.from({ length: 2000 }, (_, i) => `fan-${Math.floor(i / 5)}`);
      const answers = await Promise.all(
        requests.map((fan, i) => grabVia(clients[i % clients.length], def.id, fan)),
      );
      const sold = answers.filter((a) => a.ok);
      const refused = answers.flatMap((a) => (a.ok ? [] : [a.code]));
      expect(sold).toHaveLength(quantity);
      expect(refused.filter((c) => c !== 'SOLD_OUT' && c !== 'LIMIT_REACHED')).toEqual([]);
      expect(refused).toContain('LIMIT_REACHED');

      const l = await ledger(def);
      expect(l.stock).toBe(0);
      expect(l.heldUnits).toBe(quantity);
      expect(l.statsHeld).toBe(quantity);
      expect(l.inTransit).toBe(0);
      for (const [fan, units] of l.heldBy) {
        expect(units).toBeLessThanOrEqual(2);
        expect(l.fans[fan]).toBe(units);
      }
      // The allocation log stays one per drop: numbers 1..quantity, each once.
      const seqs = await acceptedSeqs(def.id);
      expect(seqs.sort((a, b) => a - b)).toEqual(Array.from({ length: quantity }, (_, i) => i + 1));
      // Every bucket sold: each fan's own bucket was reached by a stable hash.
      const reached = new Set(sold.map((a) => (a.ok ? bucketOf(a.order.fanId, 4) : -1)));
      expect(reached).toEqual(new Set([0, 1, 2, 3]));
      // Tokens may outlast the stock (a grab that met only tokens in transit went to the drop
      // tokenless): the SOLD_OUT answers they lead to spend them, so the buckets end empty.
      const late = new Inventory(redis);
      for (let i = 0; i <= l.tokens; i++) {
        expect(await grabVia(late, def.id, `late-${i}`)).toEqual({ ok: false, code: 'SOLD_OUT' });
      }
      expect(await ledger(def)).toMatchObject({ stock: 0, tokens: 0, inTransit: 0 });
    },
  );

  it('sells every unit when grabs of 1 and 2 units race (a bucket too low for 2 is passed over)', async () => {
    const quantity = 201;
    const def = await bucketed({ quantity, perUserLimit: 2 });
    const answers = await Promise.all(
      Array.from({ length: 600 }, (_, i) =>
        grabVia(clients[i % clients.length], def.id, `fan-${i % 300}`, i % 3 === 0 ? 2 : 1),
      ),
    );
    const l = await ledger(def);
    expect(l.heldUnits + l.stock).toBe(quantity);
    expect(l.inTransit).toBe(0);
    // No bound on tokens here: a grab that found only buckets with too few tokens for its
    // quantity was decided by the drop's stock without spending one (buckets.ts); the
    // SOLD_OUT answers at the end spend what is left.
    for (const units of l.heldBy.values()) expect(units).toBeLessThanOrEqual(2);
    expect(answers.filter((a) => a.ok).length).toBeGreaterThan(0);
    // What the race left unsold (a 2-unit grab refused SOLD_OUT at 1 left spends its tokens)
    // gets its tokens back from the sweep and sells to one-unit grabs.
    await inventory.buckets.sweep(def.id, 4);
    // A fresh process: this one skips the buckets it just found empty for a moment.
    const late = new Inventory(redis);
    for (let i = 0; l.stock > 0 && i < 250; i++) {
      await grabVia(late, def.id, `late-${i}`);
      Object.assign(l, await ledger(def));
    }
    expect(l.stock).toBe(0);
    expect(l.heldUnits).toBe(quantity);
    for (let i = 0; i <= l.tokens; i++) {
      expect(await grabVia(late, def.id, `drain-${i}`)).toEqual({ ok: false, code: 'SOLD_OUT' });
    }
    expect(await ledger(def)).toMatchObject({ stock: 0, tokens: 0, inTransit: 0 });
  });

  it('leaves a grab for more than any one bucket holds to the drop: sold, not refused by the buckets', async () => {
    const def = await bucketed({ quantity: 2, perUserLimit: 2 });
    expect((await inventory.buckets.tokensOf(def.id, 4)).tokens).toEqual([1, 1, 0, 0]);
    const r = await grabVia(inventory, def.id, 'fan-1', 2);
    expect(r).toMatchObject({ ok: true, order: { quantity: 2 } });
    // Its hold spent no token: the two left stand for no unit, and the SOLD_OUT answers they
    // lead to spend them; then the buckets alone answer.
    const late = new Inventory(redis);
    for (const fan of ['a', 'b', 'c']) {
      expect(await grabVia(late, def.id, fan)).toEqual({ ok: false, code: 'SOLD_OUT' });
    }
    expect(await ledger(def)).toMatchObject({ stock: 0, tokens: 0, inTransit: 0, heldUnits: 2 });
  });

  it('answers SOLD_OUT from the buckets alone once all are empty, writing nothing', async () => {
    const def = await bucketed({ quantity: 4, perUserLimit: 1 });
    for (const fan of ['a', 'b', 'c', 'd'])
      expect((await grabVia(inventory, def.id, fan)).ok).toBe(true);
    const before = await dropSnapshot(redis, def.id);
    const tokensBefore = await inventory.buckets.tokensOf(def.id, 4);
    const other = new Inventory(redis);
    expect(await grabVia(other, def.id, 'e')).toEqual({ ok: false, code: 'SOLD_OUT' });
    expect(snapshotDiff(before, await dropSnapshot(redis, def.id))).toEqual({});
    expect(await inventory.buckets.tokensOf(def.id, 4)).toEqual(tokensBefore);
    // With an Idempotency-Key the drop's slot answers (it alone knows a key's first answer).
    const first = await grabVia(inventory, def.id, 'a', 1, 'key-a');
    expect(first).toEqual({ ok: false, code: 'LIMIT_REACHED' });
    expect(await grabVia(other, def.id, 'a', 1, 'key-a')).toEqual({
      ok: false,
      code: 'LIMIT_REACHED',
    });
  });

  it('gives the tokens back for every refusal but SOLD_OUT, and for a replay, writing no hold', async () => {
    const def = await bucketed({ quantity: 8, perUserLimit: 1 });
    const k = dropKeys(def.id);
    const ok = await grabVia(inventory, def.id, 'fan-1', 1, 'key-1');
    expect(ok.ok).toBe(true);
    const start = await ledger(def);
    const before = await dropSnapshot(redis, def.id, /:idem$/);
    const eventsBefore = (await outboxEvents(redis, def.id)).length;

    expect(await grabVia(inventory, def.id, 'fan-1')).toEqual({ ok: false, code: 'LIMIT_REACHED' });
    const replay = await grabVia(inventory, def.id, 'fan-1', 1, 'key-1');
    expect(replay.ok && replay.replayed).toBe(true);
    expect(await grabVia(inventory, def.id, 'fan-2', 2)).toMatchObject({
      ok: false,
      code: 'VALIDATION_FAILED',
    });
    await setDropTimes(redis, def.id, { saleStartsAt: (await redisNow(redis)) + 60_000 });
    expect(await grabVia(inventory, def.id, 'fan-3')).toEqual({
      ok: false,
      code: 'SALE_NOT_STARTED',
    });

    const after = await ledger(def);
    expect(after.tokens).toBe(start.tokens);
    expect(after.inTransit).toBe(0);
    expect(after.heldUnits).toBe(1);
    expect(await redis.zcard(k.holds)).toBe(1);
    // The refusals' report (RefusalTally), written now rather than whenever its 250 ms timer
    // fires: on a loaded box that was between the two snapshots (the cluster stage, session 8).
    await inventory.refusals.flush();
    const diff = snapshotDiff(before, await dropSnapshot(redis, def.id, /:idem$/));
    const reported = (key: string) =>
      key === `${k.stats}#attempts` ||
      key.startsWith(`${k.stats}#rej:`) ||
      key.startsWith(`${k.events}#`) ||
      key.startsWith(k.receipt(''));
    // Only the drop's times moved (the test's own edit) and the refusals were reported; nothing
    // a grab writes, and the stream gained the report's grab.rejected events alone.
    expect(
      Object.keys(diff).filter((key) => !key.startsWith(`${k.drop}#`) && !reported(key)),
    ).toEqual([]);
    const added = (await outboxEvents(redis, def.id)).slice(eventsBefore).map((e) => e.type);
    expect(added.filter((type) => type !== 'grab.rejected')).toEqual([]);
  });

  it('settles tokens a grab left in transit: returned when no order was made, spent when it was', async () => {
    const def = await bucketed({ quantity: 8, perUserLimit: 2 });
    const k = dropKeys(def.id);
    const b = bucketKeys(def.id, 1);
    // A process that died after taking tokens, before grab.lua ...
    await redis.set(b.tokens, 2);
    await redis.zadd(b.taken, (await redisNow(redis)) - 60_000, `1|${def.id}-deadbeef00000001`);
    await redis.decrby(b.tokens, 1);
    // ... and one that died after grab.lua made its hold, before settling.
    const made = await inventory.grab(
      { dropId: def.id, fanId: 'fan-9', quantity: 1 },
      `${def.id}-deadbeef00000002`,
    );
    expect(made.ok).toBe(true);
    await redis.zadd(b.taken, (await redisNow(redis)) - 60_000, `1|${def.id}-deadbeef00000002`);
    await redis.decrby(b.tokens, 1);
    expect(await redis.get(b.tokens)).toBe('0');

    // Not yet stranded: a live grab's tokens are left alone.
    expect(await inventory.buckets.sweep(def.id, 4, 120_000)).toEqual({
      spent: 0,
      returned: 0,
      issued: 0,
    });
    const sweep = await inventory.buckets.sweep(def.id, 4);
    expect(sweep).toEqual({ spent: 1, returned: 1, issued: 0 });
    expect(await redis.get(b.tokens)).toBe('1');
    expect(await redis.zcard(b.taken)).toBe(0);
    const l = await ledger(def);
    expect(l.tokens).toBe(l.stock);
    expect(l.stock + l.heldUnits).toBe(8);
    expect(await redis.exists(k.order(`${def.id}-deadbeef00000001`))).toBe(0);
    // A second sweep finds nothing to do: settling is once.
    expect(await inventory.buckets.sweep(def.id, 4)).toEqual({ spent: 0, returned: 0, issued: 0 });
  });

  it('sends grabs to the drop when Redis lost the buckets (not SOLD_OUT), until the sweep issues them again', async () => {
    const def = await bucketed({ quantity: 4, perUserLimit: 1 });
    // Every bucket's keys gone, the drop's own keys kept (on a cluster: other slots, whose
    // primaries failed over before their replicas had the buckets).
    for (let k = 0; k < 4; k++) {
      const b = bucketKeys(def.id, k);
      await redis.del(b.tokens);
      await redis.del(b.taken);
    }
    const fresh = new Inventory(redis);
    for (const fan of ['a', 'b', 'c']) expect((await grabVia(fresh, def.id, fan)).ok).toBe(true);
    expect(await inventory.buckets.sweep(def.id, 4)).toEqual({ spent: 0, returned: 0, issued: 1 });
    const keys = [0, 1, 2, 3].map((k) => bucketKeys(def.id, k).tokens);
    expect(await Promise.all(keys.map((key) => redis.exists(key)))).toEqual([1, 1, 1, 1]);
    expect(await ledger(def)).toMatchObject({ stock: 1, tokens: 1, inTransit: 0, heldUnits: 3 });
    expect((await grabVia(new Inventory(redis), def.id, 'd')).ok).toBe(true);
    // Sold out, and the buckets (every key back) answer it alone again: nothing written.
    const before = await dropSnapshot(redis, def.id);
    expect(await grabVia(new Inventory(redis), def.id, 'e')).toEqual({
      ok: false,
      code: 'SOLD_OUT',
    });
    expect(snapshotDiff(before, await dropSnapshot(redis, def.id))).toEqual({});
  });

  it('issues tokens for units back in stock (an expired hold), which then sell again', async () => {
    const def = await bucketed({ quantity: 4, perUserLimit: 1 });
    const orders = [];
    for (const fan of ['a', 'b', 'c', 'd']) {
      const r = await grabVia(inventory, def.id, fan);
      if (!r.ok) throw new Error(r.code);
      orders.push(r.order);
    }
    expect(await grabVia(inventory, def.id, 'e')).toEqual({ ok: false, code: 'SOLD_OUT' });
    await moveHoldDeadline(redis, orders[0].id, (await redisNow(redis)) - 1);
    expect((await inventory.expireDue(def.id)).unitsReturned).toBe(1);
    expect((await ledger(def)).tokens).toBe(0);
    expect(await inventory.buckets.sweep(def.id, 4)).toEqual({ spent: 0, returned: 0, issued: 1 });
    expect(await inventory.buckets.sweep(def.id, 4)).toEqual({ spent: 0, returned: 0, issued: 0 });
    // This process skipped the empty buckets for a moment; a fresh one (another instance) sells.
    expect((await grabVia(new Inventory(redis), def.id, 'e')).ok).toBe(true);
    const l = await ledger(def);
    expect(l).toMatchObject({ stock: 0, tokens: 0, inTransit: 0, heldUnits: 4 });
  });
});
