import Redis from 'ioredis';
import { DataSource } from 'typeorm';
import { Inventory } from '@flashdrop/inventory';
import { createRedis } from '@flashdrop/persistence';
import { testConfig } from './test-env';

/**
 * A small connection pool on the test stack's database (or `url`), for asserting what was
 * written. Call `.query(sql, params)`; `await db.destroy()` when done.
 */
export async function testDatabase(url: string = testConfig().DATABASE_URL): Promise<DataSource> {
  const db = new DataSource({ type: 'postgres', url, extra: { max: 4 } });
  await db.initialize();
  return db;
}

/** The test stack's Redis (with an Inventory on it) and database, for tests that arrange state. */
export interface StackConnections {
  readonly redis: Redis;
  readonly inventory: Inventory;
  readonly db: DataSource;
}

/** Opens them: `beforeAll(async () => ({ redis, inventory, db } = await openStackConnections()))`. */
export async function openStackConnections(): Promise<StackConnections> {
  const redis = createRedis(testConfig().REDIS_URL);
  return { redis, inventory: new Inventory(redis), db: await testDatabase() };
}

/** Closes what `openStackConnections` opened (whatever of it did open). */
export async function closeStackConnections(c: Partial<StackConnections>): Promise<void> {
  await c.db?.destroy();
  c.redis?.disconnect();
}
