import { DataSource } from 'typeorm';
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
