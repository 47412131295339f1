import { OutboxStreamFields } from '@flashdrop/events';
import { Inventory } from '@flashdrop/inventory';
import { createRedis, RedisClient } from '@flashdrop/persistence';
import type Redis from 'ioredis';
import { dropKeys } from './inventory-fixtures';
import { DedicatedRedis, DedicatedSaleRedis, dedicatedSaleRedis } from './processes';

/**
 * What the script-level int specs start from (libs/inventory/src/*.int-spec.ts that bend
 * records no other file may see): a Redis of the spec's own on `port`, emptied, with the
 * Inventory on it. `open` in beforeAll, `close` in afterAll.
 */
export class ScriptRedis {
  private readonly server: DedicatedRedis;
  private opened: { redis: Redis; inventory: Inventory } | undefined;

  constructor(port: number) {
    this.server = new DedicatedRedis(port);
  }

  async open(): Promise<{ redis: Redis; inventory: Inventory }> {
    this.server.start();
    const redis = createRedis(this.server.url);
    await redis.flushdb();
    this.opened = { redis, inventory: new Inventory(redis) };
    return this.opened;
  }

  async close(): Promise<void> {
    await this.opened?.redis.quit();
    this.server.stop();
  }
}

/**
 * What the racing script-level int specs start from (inventory, buckets): dedicatedSaleRedis (a
 * server of the spec's own, or a cluster of six under npm run test:cluster), emptied, with an
 * Inventory on it and `clientCount` more, each on a connection of its own (as API instances
 * are), so concurrent scripts arrive interleaved from different clients. `open` in beforeAll,
 * `close` in afterAll.
 */
export class RacingSaleRedis {
  private readonly server: DedicatedSaleRedis;
  private opened: { redis: RedisClient; inventory: Inventory; clients: Inventory[] } | undefined;

  constructor(
    singlePort: number,
    clusterFirstPort: number,
    private readonly clientCount = 6,
  ) {
    this.server = dedicatedSaleRedis(singlePort, clusterFirstPort);
  }

  async open(): Promise<{ redis: RedisClient; inventory: Inventory; clients: Inventory[] }> {
    this.server.start();
    await this.server.flush();
    const redis = this.server.connect();
    const clients = Array.from(
      { length: this.clientCount },
      () => new Inventory(this.server.connect()),
    );
    this.opened = { redis, inventory: new Inventory(redis), clients };
    return this.opened;
  }

  async close(): Promise<void> {
    await Promise.all((this.opened?.clients ?? []).map((c) => c.redis.quit()));
    await this.opened?.redis.quit();
    this.server.stop();
  }
}

/** One entry of a drop's outbox stream as the scripts wrote it. */
export interface OutboxEvent {
  readonly type: string;
  readonly data: Record<string, unknown>;
}

/** The drop's outbox events in stream order (of one type, when given). */
export async function outboxEvents(
  redis: RedisClient,
  dropId: string,
  type?: string,
): Promise<OutboxEvent[]> {
  const entries = await redis.xrange(dropKeys(dropId).events, '-', '+');
  return entries
    .map(([, flat]) => {
      const f: Record<string, string> = {};
      for (let i = 0; i < flat.length; i += 2) f[flat[i]] = flat[i + 1];
      return {
        type: f[OutboxStreamFields.type],
        data: JSON.parse(f[OutboxStreamFields.data]) as Record<string, unknown>,
      };
    })
    .filter((e) => type === undefined || e.type === type);
}
