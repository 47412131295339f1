import { Inventory } from '@flashdrop/inventory';
import { LedgerFacts } from '@flashdrop/ledger';
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
 * Recomputes invariants 1-5 from the stored truth: the sale in Redis (through libs/inventory)
 * and the money in PostgreSQL (through libs/ledger). With `dropIds`, the sale invariants and the
 * order <-> debit cross-check cover those drops only (a test auditing its own drops); the
 * ledger's own invariants are always global.
 */
export async function runAudit(
  inventory: Inventory,
  ledger: LedgerFacts,
  dropIds?: readonly string[],
  /** Drops audited so far, of how many (the command prints it). */
  progress?: (done: number, total: number) => void,
): Promise<AuditReport> {
  const now = await inventory.now();
  // Every drop of the index, plus any drop money was paid for: a drop Redis has lost (or never
  // indexed) still has its debits checked against its orders.
  const drops = dropIds ?? [
    ...new Set([...(await inventory.dropIds()), ...(await ledger.paidDropIds())]),
  ];
  const sales = await auditSales(inventory, drops, (done) => progress?.(done, drops.length));
  const money = await auditMoney(ledger, sales.orders, now, dropIds);
  return {
    breaches: [...sales.breaches, ...money.breaches],
    drops: sales.drops,
    orders: sales.orders.size,
    accounts: money.accounts,
    transfers: money.transfers,
  };
}
