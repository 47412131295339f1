import Redis from 'ioredis';
import { DataSource } from 'typeorm';
import { DROPS_INDEX_KEY } from '@flashdrop/inventory';
import { Breach } from './breach';
import { auditMoney } from './money-audit';
import { auditSales } from './sales-audit';

/** The drops of every order the wallet debited (order ids embed the drop id). */
async function paidDrops(db: DataSource): Promise<string[]> {
  const rows: { drop_id: string }[] = await db.query(
    `SELECT DISTINCT split_part(order_id, '-', 1) AS drop_id FROM wallet.transfers
     WHERE kind = 'payment'`,
  );
  return rows.map((r) => r.drop_id);
}

export interface AuditReport {
  readonly breaches: Breach[];
  readonly drops: number;
  readonly orders: number;
  readonly accounts: number;
  readonly transfers: number;
}

/**
 * Recomputes invariants 1-5 from the stored truth: Redis (the sale) and PostgreSQL (money).
 * With `dropIds`, the sale invariants and the order <-> debit cross-check cover those drops
 * only (a test auditing its own drops); the ledger's own invariants are always global.
 */
export async function runAudit(
  redis: Redis,
  db: DataSource,
  dropIds?: readonly string[],
): Promise<AuditReport> {
  const [s, us] = await redis.time();
  const now = Number(s) * 1000 + Math.floor(Number(us) / 1000);
  // Every drop of the index, plus any drop money was paid for (a drop kept out of the index,
  // e.g. by a test, still has its debits checked against its orders).
  const drops = dropIds ?? [
    ...new Set([...(await redis.smembers(DROPS_INDEX_KEY)), ...(await paidDrops(db))]),
  ];
  const sales = await auditSales(redis, drops);
  const money = await auditMoney(db, sales.orders, now, dropIds);
  return {
    breaches: [...sales.breaches, ...money.breaches],
    drops: sales.drops,
    orders: sales.orders.size,
    accounts: money.accounts,
    transfers: money.transfers,
  };
}
