import { DataSource } from 'typeorm';
import { testDatabase } from '@flashdrop/testing';

/** The wallet schema of the migrated test stack holds the functions the wallet calls, no more. */
describe('the wallet schema', () => {
  let db: DataSource;
  beforeAll(async () => (db = await testDatabase()));
  afterAll(() => db.destroy());

  it('has exactly the ledger functions LedgerRepository calls', async () => {
    const rows: { proname: string }[] = await db.query(
      `SELECT p.proname FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
       WHERE n.nspname = 'wallet' ORDER BY p.proname`,
    );
    expect(rows.map((r) => r.proname)).toEqual([
      'credit_batch',
      'debit_orders',
      'refund_order',
      'release_order',
      'settle_order',
    ]);
  });
});
