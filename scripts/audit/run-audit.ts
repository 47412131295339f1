import Redis from 'ioredis';
import { DataSource } from 'typeorm';
import { Breach } from './breach';
import { auditMoney } from './money-audit';
import { auditSales } from './sales-audit';

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
  const sales = await auditSales(redis, dropIds);
  const money = await auditMoney(db, sales.orders, now, dropIds);
  return {
    breaches: [...sales.breaches, ...money.breaches],
    drops: sales.drops,
    orders: sales.orders.size,
    accounts: money.accounts,
    transfers: money.transfers,
  };
}
