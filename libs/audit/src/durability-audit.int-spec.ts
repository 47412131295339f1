import { Inventory, InventoryOrder } from '@flashdrop/inventory';
import type { RedisClient } from '@flashdrop/persistence';
import { SalesDatabase } from '@flashdrop/sales';
import {
  dropDefinition,
  dropKeys,
  freshDatabase,
  migrateSchema,
  redisNow,
  replicaOfDrop,
  SaleRedisFixture,
  slotPort,
  testDatabase,
} from '@flashdrop/testing';
import { DataSource } from 'typeorm';
import { auditDurability } from './durability-audit';
import { auditSales } from './sales-audit';

/**
 * Invariant 6 as the audit sees it (runAudit runs it for each drop when it has the sale's
 * records; the failover e2e, apps/worker/test/failover-lost-holds, runs it there): an order PostgreSQL's copy has and Redis does not is an
 * acknowledged hold Redis lost, named with its fan; an order made between the audit's read of
 * Redis and its read of PostgreSQL is not; after a failover without WAIT, the stored orders
 * are put back where their units allow and the rest stay named. A Redis and a database of this
 * test's own, so the loss it stages never reaches the suite's closing audit.
 */
describe('the durability audit: orders PostgreSQL copied that Redis lost', () => {
  // A cluster of six of its own under npm run test:cluster: the put-back on a cluster too.
  const own = new SaleRedisFixture({ port: slotPort(6502), clusterFirstPort: slotPort(8400) });
  let redis: RedisClient;
  let inventory: Inventory;
  let db: DataSource;
  let sales: SalesDatabase;

  beforeAll(async () => {
    ({ redis, inventory } = await own.open());
    const url = await freshDatabase('durability_audit');
    migrateSchema('sales', url);
    db = await testDatabase(url);
    sales = new SalesDatabase(db);
  }, 60_000);
  afterAll(async () => {
    await db?.destroy();
    await own.close();
  });

  async function dropWithHolds(fans: readonly string[]) {
    const def = dropDefinition(await redisNow(redis), { reservationRequired: false });
    await inventory.createDrop(def);
    const orders: InventoryOrder[] = [];
    for (const fanId of fans) {
      const r = await inventory.grab({ dropId: def.id, fanId, quantity: 1 });
      if (!r.ok) throw new Error(`grab refused: ${r.code}`);
      orders.push(r.order);
    }
    // Order persistence's copy of each (what the worker writes once Redis answered).
    await sales.orders.upsert(orders);
    return { dropId: def.id, orders };
  }

  it('names each order PostgreSQL has and Redis lost, with its fan; nothing when they agree', async () => {
    const { dropId, orders } = await dropWithHolds(['fan-a', 'fan-b']);
    const audit = async () => {
      const sale = await inventory.storedSale(dropId);
      if (!sale) throw new Error('no sale');
      return auditDurability(inventory, sales.orders, sale);
    };
    expect(await audit()).toEqual([]);

    // A hold Redis answered and the worker copied, then Redis lost (a failover to a replica
    // that never had it): in PostgreSQL only.
    const lost: InventoryOrder = {
      ...orders[0],
      id: orders[0].id.replace(/.$/, (c) => (c === '9' ? '8' : '9')),
      fanId: 'fan-lost',
    };
    await sales.orders.upsert([lost]);

    expect(await audit()).toEqual([
      {
        invariant: 6,
        subject: `order ${lost.id}`,
        message:
          `fan fan-lost's order of 1 unit(s) of drop ${dropId} (held in sales.orders) is not in ` +
          `Redis: acknowledged, then lost by Redis`,
      },
    ]);
  });

  it('a failover without WAIT: the stored orders go back with their units, the ones resold are named', async () => {
    const def = dropDefinition(await redisNow(redis), {
      reservationRequired: false,
      quantity: 5,
      perUserLimit: 1,
    });
    await inventory.createDrop(def);
    const grab = async (fanId: string) => {
      const r = await inventory.grab({ dropId: def.id, fanId, quantity: 1 });
      if (!r.ok) throw new Error(`grab refused: ${r.code}`);
      return r.order;
    };
    // What the replica has: fans a and b's holds.
    const kept = [await grab('fan-a'), await grab('fan-b')];
    const replica = await replicaOfDrop(redis, def.id);
    // Acknowledged after the replica's last write: c holds, d paid, e holds; the worker copied
    // all three (and the two before) into sales.orders.
    const c = await grab('fan-c');
    const d = await grab('fan-d');
    const begun = await inventory.beginPayment(d.id, { payingTtlMs: 60_000 });
    expect(begun.ok && (await inventory.completePayment(d.id)).ok).toBe(true);
    const e = await grab('fan-e');
    const paidD = (await inventory.getOrder(d.id))!;
    const stored = [...kept, c, paidD, e];
    await sales.orders.upsert(stored);

    await replica.failOver();
    // The three are gone, their units back in stock (3), and the sale goes on before anyone
    // repairs it: fan f takes one, and fan c, whose count went back to 0, grabs again.
    expect(await inventory.getOrder(c.id)).toBeUndefined();
    const f = await grab('fan-f');
    const cAgain = await grab('fan-c');
    const sale = async () => (await inventory.storedSale(def.id))!;
    expect((await sale()).stock).toBe(1);
    expect((await auditDurability(inventory, sales.orders, await sale())).length).toBe(3);

    // The repair: every stored order Redis lacks, oldest first, taking its units from stock
    // (`stored` is what sales.orders holds; its repository reader needs the entities, which
    // this spec's DataSource is opened without).
    const first = await inventory.putBackStoredOrders(def.id, stored, 5);
    // c's lost hold: the fan has a unit again (cAgain); d's paid order gets the last unit;
    // e's hold finds none left.
    expect(first).toEqual({ restored: 1, short: [c.id, e.id] });
    expect(await inventory.getOrder(d.id)).toMatchObject({ status: 'paid', fanId: 'fan-d' });
    const after = await sale();
    expect(after.stock).toBe(0);
    expect(after.unitsPerFan.get('fan-c')).toBe(1);
    expect(after.unitsPerFan.get('fan-d')).toBe(1);
    expect(after.orders.map((o) => o.id).sort()).toEqual(
      [...kept, f, cAgain, d].map((o) => o.id).sort(),
    );
    // The allocation counter goes on past the stored log's head (5): no number is handed out
    // a third time.
    expect(Number(await redis.hget(dropKeys(def.id).stats, 'allocSeq'))).toBe(5);
    // Nothing oversold, no fan over the limit; the audit names exactly the two it could not
    // put back, each with its fan.
    expect((await auditSales(inventory, [def.id])).breaches).toEqual([]);
    expect(
      (await auditDurability(inventory, sales.orders, after)).map((b) => b.subject).sort(),
    ).toEqual([`order ${c.id}`, `order ${e.id}`].sort());

    // Run again (a second operator, or a retry): nothing changes.
    expect(await inventory.putBackStoredOrders(def.id, stored, 5)).toEqual({
      restored: 0,
      short: [c.id, e.id],
    });
    expect((await sale()).stock).toBe(0);
    expect((await auditSales(inventory, [def.id])).breaches).toEqual([]);
  });

  it('an order made between the read of Redis and the read of PostgreSQL is asked for again, not named', async () => {
    const { dropId } = await dropWithHolds(['fan-c']);
    const sale = await inventory.storedSale(dropId);
    if (!sale) throw new Error('no sale');
    // After the audit read the sale: a grab, and the worker's copy of it.
    const later = await inventory.grab({ dropId, fanId: 'fan-d', quantity: 1 });
    if (!later.ok) throw new Error(`grab refused: ${later.code}`);
    await sales.orders.upsert([later.order]);

    expect(await auditDurability(inventory, sales.orders, sale)).toEqual([]);
  });
});
