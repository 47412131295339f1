import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * A refund under way is stored as it is (issue 11): status `refunding`, with its attempt (the
 * order's refundingSince, which the wallet is asked for) and its reason, so that a drop Redis
 * loses comes back with the refund in the refund recovery's index, and the recovery completes it
 * (or puts it back to paid when the wallet declines that attempt). Before this, order persistence
 * stored `refunding` as `paid`, and a rebuilt drop forgot the refund.
 * `refunding_since` is set exactly on `refunding` rows, each of which has its reason.
 */
export class OrderRefunding1773000000000 implements MigrationInterface {
  name = 'OrderRefunding1773000000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE sales.orders DROP CONSTRAINT orders_status_check`);
    await q.query(`
      ALTER TABLE sales.orders
        ADD CONSTRAINT orders_status_check CHECK (status IN
          ('held', 'paying', 'grouped', 'paid', 'refunding', 'cancelled', 'expired', 'refunded')),
        ADD COLUMN refunding_since timestamptz,
        ADD CONSTRAINT orders_refunding_since
          CHECK ((status = 'refunding') = (refunding_since IS NOT NULL)),
        ADD CONSTRAINT orders_refunding_reason
          CHECK (status <> 'refunding' OR refund_reason IS NOT NULL)`);
  }

  async down(q: QueryRunner): Promise<void> {
    // Back to what the earlier code stored for a refund under way.
    await q.query(`
      ALTER TABLE sales.orders DROP CONSTRAINT orders_refunding_since,
        DROP CONSTRAINT orders_refunding_reason, DROP CONSTRAINT orders_status_check`);
    await q.query(`UPDATE sales.orders SET status = 'paid' WHERE status = 'refunding'`);
    await q.query(`
      ALTER TABLE sales.orders DROP COLUMN refunding_since,
        ADD CONSTRAINT orders_status_check CHECK (status IN
          ('held', 'paying', 'grouped', 'paid', 'cancelled', 'expired', 'refunded'))`);
  }
}
