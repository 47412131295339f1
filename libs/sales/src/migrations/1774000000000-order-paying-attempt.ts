import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * A payment in flight is stored with its attempt (issue 11): a `paying` row keeps the order's
 * payingUntil, the number begin_payment gave the attempt and the wallet fences it by
 * (`wallet.payments (order_id, attempt)`). A drop Redis loses then comes back with that same
 * attempt (restore_orders), so the payment recovery settles the attempt that may really be
 * debited: a late debit of it finds the recovery's void (or the recovery finds the debit and
 * completes the order). Before this, the rebuilt order got a new attempt, the recovery voided
 * only that one, and a debit of the old attempt could still commit on a held or expired order.
 * `paying_until` is set exactly on `paying` rows. Rows stored `paying` before this migration
 * never had their attempt stored: they get their last copy's time (updated_at), which names no
 * attempt the wallet knows, so a rebuild treats them as the earlier code did (a void of an
 * attempt no debit uses, then the abort).
 */
export class OrderPayingAttempt1774000000000 implements MigrationInterface {
  name = 'OrderPayingAttempt1774000000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE sales.orders ADD COLUMN paying_until timestamptz`);
    await q.query(`UPDATE sales.orders SET paying_until = updated_at WHERE status = 'paying'`);
    await q.query(`
      ALTER TABLE sales.orders ADD CONSTRAINT orders_paying_until
        CHECK ((status = 'paying') = (paying_until IS NOT NULL))`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(
      `ALTER TABLE sales.orders DROP CONSTRAINT orders_paying_until, DROP COLUMN paying_until`,
    );
  }
}
