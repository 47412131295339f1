import { Inventory, InventoryOrder } from '@flashdrop/inventory';
import type { RedisClient } from '@flashdrop/persistence';
import { SalesDatabase } from '@flashdrop/sales';
import {
  dropDefinition,
  freshDatabase,
  migrateSchema,
  redisNow,
  SaleRedisFixture,
  slotPort,
  testDatabase,
} from '@flashdrop/testing';
import { DataSource } from 'typeorm';
import { auditDurability } from './durability-audit';

/**
 * Invariant 6 as the audit sees it (runAudit runs it for each drop when it has the sale's
 * records; the failover e2e, apps/worker/test/failover-lost-holds, runs it there): an order PostgreSQL's copy has and Redis does not is an
 * acknowledged hold Redis lost, named with its fan; an order made between the audit's read of
 * Redis and its read of PostgreSQL is not. A Redis and a database of this test's own, so the
 * loss it stages never reaches the suite's closing audit.
 */
describe('the durability audit: orders PostgreSQL copied that Redis lost', () => {
  const own = new SaleRedisFixture({ port: slotPort(6502) });
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
