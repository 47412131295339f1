import { DataSource } from 'typeorm';
import { AuditReport, runAudit } from '@flashdrop/audit';
import { Inventory } from '@flashdrop/inventory';
import { LedgerFacts } from '@flashdrop/ledger';
import { connectRedis, RedisClient } from '@flashdrop/persistence';
import { SalesDatabase } from '@flashdrop/sales';
import { WalletClient } from '@flashdrop/wallet-client';
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
  readonly redis: RedisClient;
  readonly inventory: Inventory;
  readonly db: DataSource;
}

/** Opens them: `beforeAll(async () => ({ redis, inventory, db } = await openStackConnections()))`. */
export async function openStackConnections(): Promise<StackConnections> {
  const redis = connectRedis(testConfig());
  return { redis, inventory: new Inventory(redis), db: await testDatabase() };
}

/** Closes what `openStackConnections` opened (whatever of it did open). */
export async function closeStackConnections(c: Partial<StackConnections>): Promise<void> {
  await c.db?.destroy();
  c.redis?.disconnect();
}

/** The stack's connections and a client of the stack's wallet (e.g. for a RefundRecovery). */
export interface StackConnectionsWithWallet extends StackConnections {
  readonly wallet: WalletClient;
}

/** openStackConnections, and a wallet client (5 s per call) on the test stack's wallet port. */
export async function openStackWithWallet(): Promise<StackConnectionsWithWallet> {
  const wallet = new WalletClient({
    host: '127.0.0.1',
    port: testConfig().WALLET_PORT,
    timeoutMs: 5000,
  });
  return { ...(await openStackConnections()), wallet };
}

/** Closes what `openStackWithWallet` opened. */
export async function closeStackWithWallet(c: Partial<StackConnectionsWithWallet>): Promise<void> {
  await c.wallet?.onApplicationShutdown();
  await closeStackConnections(c);
}

/**
 * A database of the test's own on the test stack's PostgreSQL server (`<stack db>_<name>`),
 * dropped and created afresh, for a test whose money must not meet the stack's: what it debits
 * there is neither seen by the stack's worker nor by the audit after the run. Answers its URL;
 * migrate the schemas it needs with their owners (e.g. libs/ledger `migrateWallet`).
 */
export async function freshDatabase(name: string): Promise<string> {
  const stackUrl = testConfig().DATABASE_URL;
  const database = `${stackUrl.slice(stackUrl.lastIndexOf('/') + 1)}_${name}`;
  if (!/^[a-z0-9_]+$/.test(database)) throw new Error(`not a database name: ${database}`);
  const admin = await testDatabase(`${stackUrl.slice(0, stackUrl.lastIndexOf('/'))}/postgres`);
  try {
    await admin.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
    await admin.query(`CREATE DATABASE ${database}`);
  } finally {
    await admin.destroy();
  }
  return `${stackUrl.slice(0, stackUrl.lastIndexOf('/'))}/${database}`;
}

/**
 * The audit of some drops of the test stack with the sale's durable records too (invariants 6
 * and 8: what sales.orders stored is still in Redis), as a lost-drop test ends.
 */
export function auditWithRecords(
  c: Pick<StackConnections, 'inventory' | 'db'>,
  dropIds: readonly string[],
): Promise<AuditReport> {
  return runAudit(c.inventory, new LedgerFacts(c.db), dropIds, {
    records: new SalesDatabase(c.db),
  });
}
