import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Every order gets its storage position, `seq`: taken from one sequence when the row is first
 * inserted and never changed by the updates that follow (status, paidAt), so a drop's orders
 * keep one order however often they are upserted. The brands' export (docs/api.md "Brands'
 * fulfilment") pages on it. Rows stored before this migration are numbered by creation time.
 */
export class OrdersStorageSeq1766000000000 implements MigrationInterface {
  name = 'OrdersStorageSeq1766000000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE SEQUENCE sales.orders_seq AS bigint`);
    await q.query(`ALTER TABLE sales.orders ADD COLUMN seq bigint`);
    await q.query(`
      UPDATE sales.orders o SET seq = n.seq
      FROM (SELECT id, nextval('sales.orders_seq') AS seq
            FROM (SELECT id FROM sales.orders ORDER BY created_at, id) ordered) n
      WHERE o.id = n.id`);
    await q.query(`
      ALTER TABLE sales.orders
        ALTER COLUMN seq SET DEFAULT nextval('sales.orders_seq'),
        ALTER COLUMN seq SET NOT NULL`);
    await q.query(`ALTER SEQUENCE sales.orders_seq OWNED BY sales.orders.seq`);
    // One drop's orders in storage order: the export's pages are index range scans.
    await q.query(`CREATE UNIQUE INDEX orders_drop_seq ON sales.orders (drop_id, seq)`);
    await q.query(`DROP INDEX sales.orders_drop`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`CREATE INDEX orders_drop ON sales.orders (drop_id)`);
    await q.query(`DROP INDEX sales.orders_drop_seq`);
    await q.query(`ALTER TABLE sales.orders DROP COLUMN seq`);
  }
}
