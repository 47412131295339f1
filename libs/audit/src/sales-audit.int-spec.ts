import { Inventory, InventoryOrder, StoredSale } from '@flashdrop/inventory';
import { createRedis } from '@flashdrop/persistence';
import { DedicatedRedis, dropDefinition, dropKeys, redisNow, slotPort } from '@flashdrop/testing';
import Redis from 'ioredis';
import { auditSales, SALE_RECHECKS } from './sales-audit';

/**
 * An Inventory whose next read of a sale is torn the way a read that straddles a change is on a
 * running stack: the per-fan counters and the stock are read, then `between` changes the drop
 * (a cancel here; the sweeper's expiry in the suite), then the orders are read. Every other read
 * is the real one. The change itself is the real script on the real Redis.
 */
class TearingInventory extends Inventory {
  reads = 0;
  private between?: () => Promise<unknown>;

  tearNextRead(between: () => Promise<unknown>): void {
    this.between = between;
  }

  override async storedSale(dropId: string): Promise<StoredSale | undefined> {
    this.reads++;
    const between = this.between;
    this.between = undefined;
    const before = await super.storedSale(dropId);
    if (!between || !before) return before;
    await between();
    const after = await super.storedSale(dropId);
    return after && { ...after, stock: before.stock, unitsPerFan: before.unitsPerFan };
  }
}

/**
 * The audit on a stack that keeps serving: a read of a drop torn by a change is not a breach,
 * and a breach of the stored truth is still reported. A Redis of this test's own, so the breach
 * it makes on purpose never reaches the suite's closing audit.
 */
describe('auditSales while the drop changes', () => {
  const server = new DedicatedRedis(slotPort(6478));
  let redis: Redis;
  let inventory: TearingInventory;

  beforeAll(async () => {
    server.start();
    redis = createRedis(server.url);
    await redis.flushdb();
    inventory = new TearingInventory(redis);
  }, 30_000);
  afterAll(async () => {
    await redis.quit();
    server.stop();
  });

  async function dropWithHolds(fans: readonly string[]): Promise<{
    dropId: string;
    orders: InventoryOrder[];
  }> {
    const def = dropDefinition(await redisNow(redis), { reservationRequired: false });
    await inventory.createDrop(def);
    const orders: InventoryOrder[] = [];
    for (const fanId of fans) {
      const r = await inventory.grab({ dropId: def.id, fanId, quantity: 1 });
      if (!r.ok) throw new Error(`grab refused: ${r.code}`);
      orders.push(r.order);
    }
    return { dropId: def.id, orders };
  }

  it('a read torn by a cancel is read again and reports nothing', async () => {
    const { dropId, orders } = await dropWithHolds(['fan-a', 'fan-b']);
    inventory.tearNextRead(() => inventory.cancelOrder(orders[0].id, 'fan-a'));
    inventory.reads = 0;

    const audit = await auditSales(inventory, [dropId]);

    expect(audit.breaches).toEqual([]);
    expect(inventory.reads).toBe(2); // the torn read, then one clean read
    // What the audit hands the money cross-check is the clean read: the cancel is in it.
    expect(audit.orders.get(orders[0].id)?.status).toBe('cancelled');
    expect(audit.orders.get(orders[1].id)?.status).toBe('held');
  });

  it('a breach of the stored truth is reported after every re-read showed it', async () => {
    const { dropId } = await dropWithHolds(['fan-c']);
    // The per-fan counter the grab checks, one more than the fan holds: a real breach.
    await redis.hincrby(dropKeys(dropId).fans, 'fan-c', 1);
    inventory.reads = 0;

    const audit = await auditSales(inventory, [dropId]);

    expect(inventory.reads).toBe(1 + SALE_RECHECKS);
    expect(audit.breaches).toEqual([
      {
        invariant: 2,
        subject: `drop ${dropId}`,
        message: 'fan fan-c: counter 2 != held+paid 1',
      },
    ]);
  });

  it('a refund under way outside the refunding index, or an index entry of no refund: invariant 9', async () => {
    const { dropId, orders } = await dropWithHolds(['fan-r', 'fan-s']);
    const k = dropKeys(dropId);
    for (const o of orders) {
      expect((await inventory.beginPayment(o.id)).ok).toBe(true);
      expect((await inventory.completePayment(o.id)).ok).toBe(true);
    }
    const [lost, stray] = orders;
    const begun = await inventory.beginRefund(lost.id, 'returned');
    const attempt = begun.ok ? begun.value.order.refundingSince : undefined;
    expect((await auditSales(inventory, [dropId])).breaches).toEqual([]);
    // What a rebuild that forgot the index would leave: the refund recovery never finds it.
    await redis.zrem(k.refunding, lost.id);
    await redis.zadd(k.refunding, 1, stray.id);
    expect((await auditSales(inventory, [dropId])).breaches).toEqual([
      {
        invariant: 9,
        subject: `order ${lost.id}`,
        message: `refunding (attempt ${attempt}) but not in the refunding index`,
      },
      {
        invariant: 9,
        subject: `order ${stray.id}`,
        message: 'in the refunding index but not refunding',
      },
    ]);
  });

  it('a clean drop is read once', async () => {
    const { dropId } = await dropWithHolds(['fan-d', 'fan-e']);
    inventory.reads = 0;

    const audit = await auditSales(inventory, [dropId]);

    expect(audit.breaches).toEqual([]);
    expect(inventory.reads).toBe(1);
  });
});
