import {
  Inject,
  Injectable,
  Logger,
  OnApplicationBootstrap,
  OnApplicationShutdown,
} from '@nestjs/common';
import { FlashdropConfig } from '@flashdrop/config';
import { OutboxStreamFields, OutboxStreamGroups } from '@flashdrop/events';
import { dropKeys, Inventory, InventoryOrder } from '@flashdrop/inventory';
import { postgresOptions, RedisConnection } from '@flashdrop/persistence';
import { DataSource } from 'typeorm';
import { createRedlock, SingletonLoop } from '../singleton/singleton-loop';

const ORDER_PERSISTENCE_GROUP = OutboxStreamGroups.orderPersistence;
const CONSUMER = 'persister';
const BATCH = 500;
const ORDER_EVENTS = new Set(['grab.accepted', 'hold.expired', 'hold.cancelled', 'order.paid']);

type StreamReply = [key: string, entries: [id: string, fields: string[]][]][] | null;

/**
 * Order persistence: copies every order of every drop into PostgreSQL `sales.orders` (the
 * table of the API's migration), so orders outlive Redis.
 *
 * Delivery: at least once. A consumer group of its own on each `{d:ID}:events` stream; entries
 * are acknowledged only after the rows are committed, and a new lease holder first re-reads
 * what its predecessor left unacknowledged.
 * Idempotent: the row is an upsert of the order as Redis holds it now (not of the event), and a
 * terminal status (paid, expired, cancelled) is never overwritten, so replays and reordering
 * change nothing. Order: per drop, by stream id. The streams are not trimmed here.
 */
@Injectable()
export class OrderPersister implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(OrderPersister.name);
  private readonly loop: SingletonLoop;
  private readonly db: DataSource;
  private readonly groups = new Set<string>();
  /** Streams whose pending (delivered, unacknowledged) entries this holder has re-read. */
  private readonly recovered = new Set<string>();
  private wasLeader = false;

  constructor(
    private readonly inventory: Inventory,
    redis: RedisConnection,
    @Inject(FlashdropConfig) config: FlashdropConfig,
  ) {
    this.db = new DataSource(
      postgresOptions({
        url: config.DATABASE_URL,
        schema: 'sales',
        entities: [],
        migrations: [],
        poolSize: 4,
        applicationName: 'flashdrop-worker',
      }),
    );
    this.loop = new SingletonLoop(createRedlock(redis.client), {
      resource: 'locks:order-persistence',
      leaseMs: 5000,
      intervalMs: 200,
      tick: () => this.persistOnce(),
    });
  }

  async onApplicationBootstrap(): Promise<void> {
    await this.db.initialize().catch((e: Error) => this.logger.warn(`postgres: ${e.message}`));
    this.loop.start();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.loop.stop();
    if (this.db.isInitialized) await this.db.destroy();
  }

  /** One pass over every drop's stream; returns the orders written. */
  async persistOnce(): Promise<number> {
    if (!this.db.isInitialized) await this.db.initialize();
    if (!this.wasLeader) {
      // A new holder: re-read everything left pending by whoever held the lease before.
      this.recovered.clear();
      this.wasLeader = true;
    }
    const drops = await this.inventory.dropIds();
    const counts = await Promise.all(drops.map((d) => this.persistDrop(d)));
    return counts.reduce((a, b) => a + b, 0);
  }

  private async persistDrop(dropId: string): Promise<number> {
    const stream = dropKeys(dropId).events;
    const redis = this.inventory.redis;
    if (!this.groups.has(stream)) {
      await redis
        .xgroup('CREATE', stream, ORDER_PERSISTENCE_GROUP, '0', 'MKSTREAM')
        .catch((e: Error) => {
          if (!e.message.includes('BUSYGROUP')) throw e;
        });
      this.groups.add(stream);
    }
    let written = 0;
    for (;;) {
      const from = this.recovered.has(stream) ? '>' : '0';
      const reply = (await redis.xreadgroup(
        'GROUP',
        ORDER_PERSISTENCE_GROUP,
        CONSUMER,
        'COUNT',
        BATCH,
        'STREAMS',
        stream,
        from,
      )) as StreamReply;
      const entries = reply?.[0]?.[1] ?? [];
      if (entries.length === 0) {
        if (from === '0') {
          this.recovered.add(stream);
          continue;
        }
        return written;
      }
      const orderIds = new Set<string>();
      for (const [, fields] of entries) {
        const type = field(fields, OutboxStreamFields.type);
        if (!type || !ORDER_EVENTS.has(type)) continue;
        const data = JSON.parse(field(fields, OutboxStreamFields.data) ?? '{}') as {
          orderId?: string;
        };
        if (data.orderId) orderIds.add(data.orderId);
      }
      const orders = await Promise.all([...orderIds].map((id) => this.inventory.getOrder(id)));
      await this.upsert(orders.filter((o): o is InventoryOrder => o !== undefined));
      written += orderIds.size;
      await redis.xack(stream, ORDER_PERSISTENCE_GROUP, ...entries.map(([id]) => id));
      if (entries.length < BATCH && from === '>') return written;
    }
  }

  private async upsert(orders: InventoryOrder[]): Promise<void> {
    if (orders.length === 0) return;
    const columns: unknown[][] = Array.from({ length: 10 }, () => []);
    for (const o of orders) {
      const row = [
        o.id,
        o.dropId,
        o.fanId,
        o.quantity,
        o.amountMinor,
        o.currency,
        o.status,
        new Date(o.createdAt),
        new Date(o.expiresAt),
        o.paidAt === undefined ? null : new Date(o.paidAt),
      ];
      row.forEach((value, i) => columns[i].push(value));
    }
    // One array per column (unnest), not ten parameters per row: the statement text and its
    // parameter list stay the same size whatever the batch, which PostgreSQL parses and binds
    // far more cheaply than 5,000 separate parameters.
    // Terminal statuses are final: a replayed or late event never moves an order back.
    await this.db.query(
      `INSERT INTO sales.orders (id, drop_id, fan_id, quantity, amount_minor, currency, status,
         created_at, expires_at, paid_at, updated_at)
       SELECT id, drop_id, fan_id, quantity, amount_minor, currency, status, created_at,
         expires_at, paid_at, now()
       FROM unnest($1::text[], $2::text[], $3::text[], $4::int[], $5::bigint[], $6::text[],
         $7::text[], $8::timestamptz[], $9::timestamptz[], $10::timestamptz[])
         AS t(id, drop_id, fan_id, quantity, amount_minor, currency, status, created_at,
           expires_at, paid_at)
       ON CONFLICT (id) DO UPDATE SET status = EXCLUDED.status, paid_at = EXCLUDED.paid_at,
         updated_at = now()
       WHERE sales.orders.status IN ('held', 'paying')`,
      columns,
    );
  }
}

function field(fields: string[], name: string): string | undefined {
  for (let i = 0; i < fields.length; i += 2) if (fields[i] === name) return fields[i + 1];
  return undefined;
}
