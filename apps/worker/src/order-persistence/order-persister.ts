import {
  Inject,
  Injectable,
  Logger,
  OnApplicationBootstrap,
  OnApplicationShutdown,
} from '@nestjs/common';
import { FlashdropConfig } from '@flashdrop/config';
import { OutboxStreamFields } from '@flashdrop/events';
import {
  Inventory,
  InventoryOrder,
  OutboxEntry,
  OutboxReader,
  OutboxStreamGroups,
} from '@flashdrop/inventory';
import { RedisConnection } from '@flashdrop/persistence';
import { SalesDatabase } from '@flashdrop/sales';
import { Singleton, TickingWork } from '../singleton/singleton';
import { AllocationLogWriter } from './allocation-log-writer';

/** Events that make or change an order: grabbed, drawn and backfilled orders alike. */
const ORDER_EVENTS = new Set([
  'grab.accepted',
  'draw.won',
  'hold.backfilled',
  'hold.expired',
  'hold.cancelled',
  'order.paying',
  'order.paid',
  'order.refunding',
  'order.refund_declined',
  'order.refunded',
  'order.grouped',
]);

/**
 * Order persistence: copies every order of every drop into PostgreSQL `sales.orders` (through
 * libs/sales, the schema's owner), so orders outlive Redis, and appends every unit handed out to
 * the drop's hash-chained allocation log (`sales.allocations`, AllocationLogWriter) from the same
 * read of the stream: one pass over the outbox for both durable records of the sale.
 *
 * Delivery: at least once. A consumer group of its own on each drop's outbox stream
 * (libs/inventory OutboxReader); entries are acknowledged only after the rows are committed,
 * and a new lease holder first re-reads what its predecessor left unacknowledged.
 * Idempotent: the row is an upsert of the order as Redis holds it now (not of the event), and a
 * terminal status (paid, expired, cancelled) is never overwritten, so replays and reordering
 * change nothing. Order: per drop, by stream id. The streams are not trimmed here.
 */
@Singleton({ name: 'order-persistence', leaseMs: 5000, everyMs: 200 })
@Injectable()
export class OrderPersister implements TickingWork, OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(OrderPersister.name);
  private readonly sales: SalesDatabase;
  private readonly reader: OutboxReader;
  private readonly allocationLog: AllocationLogWriter;
  private wasLeader = false;

  constructor(
    private readonly inventory: Inventory,
    redis: RedisConnection,
    @Inject(FlashdropConfig) config: FlashdropConfig,
  ) {
    this.sales = SalesDatabase.pool(config, { poolSize: 4, applicationName: 'flashdrop-worker' });
    this.reader = new OutboxReader(redis.client, OutboxStreamGroups.orderPersistence, 'persister');
    this.allocationLog = new AllocationLogWriter(this.sales.allocations);
  }

  async onApplicationBootstrap(): Promise<void> {
    await this.sales.open().catch((e: Error) => this.logger.warn(`postgres: ${e.message}`));
  }

  async onApplicationShutdown(): Promise<void> {
    await this.sales.close();
  }

  tick(): Promise<number> {
    return this.persistOnce();
  }

  /** One pass over the active drops' streams; returns the orders written. */
  async persistOnce(): Promise<number> {
    await this.sales.open();
    if (!this.wasLeader) {
      // A new holder: re-read everything left pending by whoever held the lease before.
      this.reader.takeOver();
      this.allocationLog.reset();
      this.wasLeader = true;
    }
    // A retired drop has no entry left to read (retire_drop.lua checks this group too).
    const drops = await this.inventory.activeDropIds();
    let written = 0;
    await Promise.all(
      drops.map((dropId) =>
        this.reader.readDrop(dropId, async (entries) => {
          written += await this.persist(entries);
          // After the orders: an allocation entry never names an order PostgreSQL lacks.
          await this.allocationLog.append(dropId, entries);
        }),
      ),
    );
    return written;
  }

  /** The orders the entries name, as Redis holds them now, into `sales.orders`. */
  private async persist(entries: readonly OutboxEntry[]): Promise<number> {
    const orderIds = new Set<string>();
    for (const { fields } of entries) {
      const type = fields[OutboxStreamFields.type];
      if (!type || !ORDER_EVENTS.has(type)) continue;
      const data = JSON.parse(fields[OutboxStreamFields.data] ?? '{}') as { orderId?: string };
      if (data.orderId) orderIds.add(data.orderId);
    }
    const orders = await Promise.all([...orderIds].map((id) => this.inventory.getOrder(id)));
    await this.sales.orders.upsert(orders.filter((o): o is InventoryOrder => o !== undefined));
    return orderIds.size;
  }
}
