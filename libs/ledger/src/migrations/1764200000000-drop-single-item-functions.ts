import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The first migration's single-item ledger functions, `wallet.credit` and `wallet.debit_order`
 * (and `wallet.add_to_system`, which only they used), have not been called since the batch
 * functions of 1764100000000 took their place (PAYMENTS.md "Batches"). Dropped, so the schema
 * holds only what the wallet runs, and the lock order has no second set of writers to cover.
 */
export class DropSingleItemFunctions1764200000000 implements MigrationInterface {
  name = 'DropSingleItemFunctions1764200000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(
      `DROP FUNCTION wallet.debit_order(text, bigint, text, text, text, text, bigint, int)`,
    );
    await q.query(`DROP FUNCTION wallet.credit(text, text, bigint, text, int)`);
    await q.query(`DROP FUNCTION wallet.add_to_system(text, text, text, int, bigint)`);
  }

  async down(): Promise<void> {
    // Nothing calls them; their text stays in 1764070000000 should anyone ever want them back.
    throw new Error('DropSingleItemFunctions1764200000000 cannot be reverted');
  }
}
