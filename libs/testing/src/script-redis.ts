import { OutboxStreamFields } from '@flashdrop/events';
import { Inventory } from '@flashdrop/inventory';
import { RedisClient } from '@flashdrop/persistence';
import { dropKeys } from './inventory-fixtures';
import { DedicatedRedis, DedicatedSaleRedis, dedicatedSaleRedis } from './processes';

/**
 * What the script-level int specs (libs/inventory/src/*.int-spec.ts) start from: a Redis of the
 * spec's own, emptied, with an Inventory on it. `open` in beforeAll, `close` in afterAll.
 * - `port` alone: one server there, always. For specs that bend records no other file may see.
 * - With `clusterFirstPort`: a cluster of six from there instead under npm run test:cluster
 *   (dedicatedSaleRedis), so the same tests show the scripts hold on both.
 * - `clientCount` more Inventories, each on a connection of its own (as API instances are), so
 *   concurrent scripts of a racing spec arrive interleaved from different clients.
 */
export class SaleRedisFixture {
  private readonly server: DedicatedSaleRedis;
  private readonly clientCount: number;
  private opened: { redis: RedisClient; inventory: Inventory; clients: Inventory[] } | undefined;

  constructor(options: { port: number; clusterFirstPort?: number; clientCount?: number }) {
    this.server =
      options.clusterFirstPort === undefined
        ? new DedicatedRedis(options.port)
        : dedicatedSaleRedis(options.port, options.clusterFirstPort);
    this.clientCount = options.clientCount ?? 0;
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
