// The payment floor's wallet side: the wallet's own batch functions (`wallet.debit_orders`,
// `wallet.credit_batch`, migration 1764100000000-ledger-batches) called directly over `pg`,
// coalesced by the wallet's own GroupCommit with its limits (apps/wallet PAYMENTS.md
// "Batches"): what a debit or a credit could cost at best, without Nest's microservice hop,
// TypeORM or the outbox relay. Its database is the floor's own (fresh schema every start), so
// the floor's money never meets the stack's.
import { Pool } from 'pg';
import { FlashdropConfig, loadConfig } from '@flashdrop/config';
import {
  BATCH_MAX_IN_FLIGHT,
  BATCH_MAX_ITEMS,
  BATCH_MAX_QUEUED,
  CREDIT_BATCH_SQL,
  creditBatchParams,
  DEBIT_ORDERS_SQL,
  debitOrdersParams,
  GroupCommit,
  ItemResult,
  migrateWallet,
  WALLET_SCHEMA,
} from '@flashdrop/ledger';

export interface FloorDebit {
  readonly orderId: string;
  readonly attempt: number;
  readonly fanId: string;
  readonly dropId: string;
  readonly brandId: string;
  readonly currency: string;
  readonly amountMinor: number;
}

export interface FloorCredit {
  readonly fanId: string;
  readonly currency: string;
  readonly amountMinor: number;
  readonly reference: string;
}

const limits = {
  maxBatch: BATCH_MAX_ITEMS,
  maxInFlight: BATCH_MAX_IN_FLIGHT,
  maxQueued: BATCH_MAX_QUEUED,
  overloaded: () => new Error('the floor wallet is overloaded'),
};

export class FloorWallet {
  private readonly pool: Pool;
  private readonly debits: GroupCommit<FloorDebit, string>;
  private readonly credits: GroupCommit<FloorCredit, { created: boolean; balance: number }>;

  constructor(private readonly url: string) {
    this.pool = new Pool({ connectionString: url, max: BATCH_MAX_IN_FLIGHT * 2 });
    this.debits = new GroupCommit((items) => this.debitBatch(items), {
      ...limits,
      keyOf: (d) => d.orderId,
    });
    this.credits = new GroupCommit((items) => this.creditBatch(items), {
      ...limits,
      keyOf: (c) => c.reference,
    });
  }

  /** A fresh `wallet` schema in the floor's database (created if missing), migrated. */
  async reset(): Promise<void> {
    const name = new URL(this.url).pathname.slice(1);
    const admin = new Pool({ connectionString: this.url.replace(/\/[^/]+$/, '/postgres'), max: 1 });
    try {
      const found = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
      if (found.rowCount === 0) await admin.query(`CREATE DATABASE "${name}"`);
    } finally {
      await admin.end();
    }
    await this.pool.query(`DROP SCHEMA IF EXISTS ${WALLET_SCHEMA} CASCADE`);
    const config = loadConfig(FlashdropConfig, { ...process.env, DATABASE_URL: this.url });
    await migrateWallet(config);
  }

  /** The attempt's outcome (`debited`, `declined`, `voided`) once its batch committed. */
  debit(item: FloorDebit): Promise<string> {
    return this.debits.submit(item);
  }

  credit(item: FloorCredit): Promise<{ created: boolean; balance: number }> {
    return this.credits.submit(item);
  }

  async close(): Promise<void> {
    await this.pool.end();
  }

  private async debitBatch(items: readonly FloorDebit[]): Promise<ItemResult<string>[]> {
    const { rows } = await this.pool.query<{ item: number; outcome: string }>(
      DEBIT_ORDERS_SQL,
      debitOrdersParams(items),
    );
    const outcomes = new Array<string>(items.length);
    for (const row of rows) outcomes[row.item - 1] = row.outcome;
    return outcomes.map((value) => ({ ok: true as const, value }));
  }

  private async creditBatch(
    items: readonly FloorCredit[],
  ): Promise<ItemResult<{ created: boolean; balance: number }>[]> {
    const { rows } = await this.pool.query<{ item: number; created: boolean; balance: string }>(
      CREDIT_BATCH_SQL,
      creditBatchParams(items),
    );
    const results = new Array<{ created: boolean; balance: number }>(items.length);
    for (const row of rows) {
      results[row.item - 1] = { created: row.created, balance: Number(row.balance) };
    }
    return results.map((value) => ({ ok: true as const, value }));
  }
}
