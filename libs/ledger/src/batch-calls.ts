import { shardOf } from './shards';

// The wallet's two batch functions as their callers spell them: the wallet's LedgerRepository
// and the bench's payment floor (load-tests/peers) call them through these, so a migration that
// changes a function's parameters changes every caller with it (the floor once kept an old
// eight-argument call and answered 500 after the referral migration).

/** One payment attempt as `wallet.debit_orders` takes it. */
export interface DebitOrderItem {
  readonly orderId: string;
  readonly attempt: number;
  readonly fanId: string;
  readonly dropId: string;
  readonly brandId: string;
  readonly currency: string;
  readonly amountMinor: number;
  /** The referrer the order rewards ('' or absent: none). */
  readonly referrerId?: string;
  readonly rewardMinor?: number;
  /** A group member's payment: credited to the drop's escrow, not the brand's revenue. */
  readonly escrow?: boolean;
}

/** One credit as `wallet.credit_batch` takes it. */
export interface CreditBatchItem {
  readonly fanId: string;
  readonly currency: string;
  readonly amountMinor: number;
  readonly reference: string;
}

/** Rows `{item, outcome, balance}`, `item` 1-based in the batch's order. */
export const DEBIT_ORDERS_SQL =
  'SELECT * FROM wallet.debit_orders($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)';

/** Rows `{item, created, balance}`, `item` 1-based in the batch's order. */
export const CREDIT_BATCH_SQL = 'SELECT * FROM wallet.credit_batch($1, $2, $3, $4, $5)';

export function debitOrdersParams(batch: readonly DebitOrderItem[]): unknown[] {
  return [
    batch.map((r) => r.orderId),
    batch.map((r) => r.attempt),
    batch.map((r) => r.fanId),
    batch.map((r) => r.dropId),
    batch.map((r) => r.brandId),
    batch.map((r) => r.currency),
    batch.map((r) => r.amountMinor),
    batch.map((r) => shardOf(r.orderId)),
    batch.map((r) => r.referrerId ?? ''),
    batch.map((r) => r.rewardMinor ?? 0),
    batch.map((r) => r.escrow === true),
  ];
}

export function creditBatchParams(batch: readonly CreditBatchItem[]): unknown[] {
  return [
    batch.map((r) => r.fanId),
    batch.map((r) => r.currency),
    batch.map((r) => r.amountMinor),
    batch.map((r) => r.reference),
    batch.map((r) => shardOf(r.reference)),
  ];
}
