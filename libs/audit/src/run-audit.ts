import { Inventory, StoredSale } from '@flashdrop/inventory';
import { LedgerFacts } from '@flashdrop/ledger';
import { Breach, Notice } from './breach';
import { AuditedDropFigures, figuresOfDrops } from './drop-figures';
import { auditMoney } from './money-audit';
import { auditSales } from './sales-audit';
import { auditPrices } from './campaign-audit';
import { auditRewards } from './reward-audit';
import { auditGroups } from './group-audit';
import { auditFairness, logsCaughtUp, SaleRecords } from './fair-audit';
import { auditDurability } from './durability-audit';

/** How long the audit waits for the worker to chain the allocation logs up to the sale. */
const LOG_CATCH_UP_MS = 15_000;

export interface AuditReport {
  readonly breaches: Breach[];
  /** Drops rebuilt after Redis lost them, with what was lost (rebuildNotices). */
  readonly notices: Notice[];
  readonly drops: number;
  readonly orders: number;
  readonly accounts: number;
  readonly transfers: number;
  /** Each audited drop's orders (Redis) and debits (ledger): what its report must agree with. */
  readonly figures: ReadonlyMap<string, AuditedDropFigures>;
  /** Referral rewards of refunded orders the referrers had spent: borne by the brands. */
  readonly rewardsUnrecoveredMinor: number;
}

/**
 * Recomputes invariants 1-6, 8 and 9 (prices, refunds, referral rewards) from the stored truth: the sale in Redis (through
 * libs/inventory), the money in PostgreSQL (through libs/ledger), and the sale's durable records
 * (the orders' copy, the allocation logs and draws, through libs/sales). With `dropIds`, the sale invariants and
 * the order <-> debit cross-check cover those drops only (a test auditing its own drops); the
 * ledger's own invariants are always global. Without `records` (a database that has no sales
 * schema, as some tests' own), invariants 6 and 8 are not checked.
 */
export async function runAudit(
  inventory: Inventory,
  ledger: LedgerFacts,
  dropIds?: readonly string[],
  options: {
    /** Drops audited so far, of how many (the command prints it). */
    readonly progress?: (done: number, total: number) => void;
    /** The sale's durable records (libs/sales); without them invariants 6 and 8 are not checked. */
    readonly records?: SaleRecords;
  } = {},
): Promise<AuditReport> {
  const { progress, records } = options;
  const now = await inventory.now();
  // Every drop of the index, plus any drop money was paid for: a drop Redis has lost (or never
  // indexed) still has its debits checked against its orders.
  const drops = dropIds ?? [
    ...new Set([...(await inventory.dropIds()), ...(await ledger.paidDropIds())]),
  ];
  const sales = await auditSales(inventory, drops, (done) => progress?.(done, drops.length));
  const money = await auditMoney(ledger, sales.orders, now, dropIds);
  const rewards = await auditRewards(ledger, sales.orders, dropIds);
  const groups = await auditGroups(inventory, ledger, sales.orders, drops);
  const campaigns: Breach[] = [...rewards.breaches, ...groups];
  for (const sale of sales.sales) campaigns.push(...(await auditPrices(inventory, sale)));
  const fair: Breach[] = [];
  const durability: Breach[] = [];
  if (records) {
    for (const sale of sales.sales) {
      durability.push(...(await auditDurability(inventory, records.orders, sale)));
    }
    const behind = await logsCaughtUp(records.allocations, sales.sales, LOG_CATCH_UP_MS);
    for (const sale of sales.sales) fair.push(...(await auditFairness(records, sale)));
    for (const dropId of behind) {
      fair.push({
        invariant: 8,
        subject: `drop ${dropId}`,
        message: `the allocation log still trails the sale after ${LOG_CATCH_UP_MS} ms`,
      });
    }
  }
  return {
    breaches: [...sales.breaches, ...money.breaches, ...durability, ...campaigns, ...fair],
    notices: rebuildNotices(sales.sales),
    drops: sales.drops,
    orders: sales.orders.size,
    accounts: money.accounts,
    transfers: money.transfers,
    figures: figuresOfDrops(sales.orders, money.debits),
    rewardsUnrecoveredMinor: rewards.unrecoveredMinor,
  };
}

/**
 * A drop rebuilt from PostgreSQL after Redis lost it (its stats hash says when, and what could
 * not be rebuilt): named, so that an operator knows which fans may have lost a reservation, a
 * place in line or a draw's result that no stored record proves.
 */
export function rebuildNotices(sales: readonly StoredSale[]): Notice[] {
  return sales.flatMap((sale) =>
    sale.rebuilt
      ? [
          {
            subject: `drop ${sale.definition.id}`,
            message:
              `rebuilt from PostgreSQL at ${new Date(sale.rebuilt.at).toISOString()} after Redis ` +
              `lost it; ` +
              (sale.rebuilt.lost.length > 0
                ? `not rebuilt: ${sale.rebuilt.lost.join(', ')}`
                : 'its reservations and draw came back whole') +
              (sale.definition.paused ? ' (paused since: resume or cancel it)' : ''),
          },
        ]
      : [],
  );
}

/**
 * Invariants 1-5, 8 and 9 of one drop, checked at once without waiting for the worker: for a
 * caller that has just let order persistence catch up itself (the simulator, after every step
 * of a seed). The same checks as runAudit (prices, refunds, rewards and groups included), on
 * one drop's sale read once; the ledger's own checks stay global (cheap on a ledger that holds
 * one drop, as the simulator's does).
 */
export async function auditDrop(
  inventory: Inventory,
  ledger: LedgerFacts,
  records: SaleRecords,
  dropId: string,
): Promise<{ readonly breaches: Breach[]; readonly sale?: StoredSale }> {
  const now = await inventory.now();
  const sales = await auditSales(inventory, [dropId]);
  const money = await auditMoney(ledger, sales.orders, now, [dropId]);
  const rewards = await auditRewards(ledger, sales.orders, [dropId]);
  const groups = await auditGroups(inventory, ledger, sales.orders, [dropId]);
  const sale = sales.sales[0];
  const prices = sale ? await auditPrices(inventory, sale) : [];
  const fair = sale ? await auditFairness(records, sale) : [];
  return {
    breaches: [
      ...sales.breaches,
      ...money.breaches,
      ...rewards.breaches,
      ...groups,
      ...prices,
      ...fair,
    ],
    sale,
  };
}
