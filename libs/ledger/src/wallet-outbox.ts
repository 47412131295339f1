import { FlashdropConfig } from '@flashdrop/config';
import { OutboxRow, OutboxTable } from '@flashdrop/events';
import { DataSource } from 'typeorm';
import { walletPool, WalletPoolOptions } from './wallet-database';

interface Row {
  id: string;
  event_id: string;
  type: string;
  version: number;
  key: string;
  occurred_at: Date | string;
  data: unknown;
}

/**
 * `wallet.outbox` as the events relay reads it (libs/events TableRelay): the rows the ledger
 * functions wrote in the same transaction as each credit and debit, and their `published_at`.
 * The worker's relay is the one other writer of this table, and only of that column.
 */
export class WalletOutbox implements OutboxTable {
  readonly name = 'wallet.outbox';

  constructor(private readonly db: DataSource) {}

  /** On a pool of its own, not yet connected (the worker's relay). */
  static pool(config: FlashdropConfig, pool: WalletPoolOptions): WalletOutbox {
    return new WalletOutbox(walletPool(config, pool));
  }

  async open(): Promise<void> {
    if (!this.db.isInitialized) await this.db.initialize();
  }

  async close(): Promise<void> {
    if (this.db.isInitialized) await this.db.destroy();
  }

  /**
   * The Kafka key of each row is the drop it belongs to (`data.dropId`: a debit, a refund), so a
   * drop's wallet events share a partition like its sale events; a row of no drop (a credit)
   * keeps the fan id the ledger function wrote.
   */
  async unpublished(limit: number): Promise<OutboxRow[]> {
    const rows: Row[] = await this.db.query(
      `SELECT id, event_id, type, version, COALESCE(data->>'dropId', key) AS key, occurred_at, data
       FROM wallet.outbox
       WHERE published_at IS NULL ORDER BY id LIMIT $1`,
      [limit],
    );
    return rows.map((r) => ({
      id: r.id,
      eventId: r.event_id,
      type: r.type,
      version: r.version,
      key: r.key,
      occurredAt: new Date(r.occurred_at),
      data: r.data,
    }));
  }

  async markPublished(ids: readonly string[]): Promise<void> {
    await this.db.query(
      `UPDATE wallet.outbox SET published_at = now() WHERE id = ANY($1::bigint[])`,
      [ids],
    );
  }
}
