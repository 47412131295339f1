import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Stock buckets (docs/scale.md "Buckets"): how many Redis slots a drop's grabs are spread over.
 * 1 is the one-script grab every drop had before; fixed at creation.
 */
export class StockBuckets1771000000000 implements MigrationInterface {
  name = 'StockBuckets1771000000000';

  async up(q: QueryRunner): Promise<void> {
    // Buckets with a draw are refused at the border (a draw never grabs); the range is
    // libs/inventory MAX_STOCK_BUCKETS.
    await q.query(`
      ALTER TABLE sales.drops
        ADD COLUMN stock_buckets smallint NOT NULL DEFAULT 1
          CHECK (stock_buckets BETWEEN 1 AND 64 AND (stock_buckets = 1 OR allocation <> 'draw'))`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE sales.drops DROP COLUMN stock_buckets`);
  }
}
