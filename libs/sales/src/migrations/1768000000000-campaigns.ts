import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Campaigns (docs/api.md "Campaigns"): a drop's audience tier and share discount; what each order
 * paid per unit and the discount it got; the order statuses campaigns add (`refunded`, and
 * `grouped` for group buy), when a refund happened and why.
 */
export class Campaigns1768000000000 implements MigrationInterface {
  name = 'Campaigns1768000000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      ALTER TABLE sales.drops
        ADD COLUMN audience_tier text CHECK (audience_tier ~ '^[a-z0-9_-]{1,32}$'),
        ADD COLUMN share_discount_minor bigint NOT NULL DEFAULT 0
          CHECK (share_discount_minor >= 0 AND share_discount_minor < price_minor)`);
    // Orders stored before campaigns paid the full price: their unit price is amount / quantity.
    await q.query(`
      ALTER TABLE sales.orders
        ADD COLUMN unit_price_minor bigint CHECK (unit_price_minor > 0),
        ADD COLUMN discount_minor bigint NOT NULL DEFAULT 0 CHECK (discount_minor >= 0),
        ADD COLUMN refunded_at timestamptz,
        ADD COLUMN refund_reason text`);
    await q.query(`UPDATE sales.orders SET unit_price_minor = amount_minor / quantity`);
    await q.query(`ALTER TABLE sales.orders ALTER COLUMN unit_price_minor SET NOT NULL`);
    await q.query(`ALTER TABLE sales.orders DROP CONSTRAINT orders_status_check`);
    await q.query(`
      ALTER TABLE sales.orders ADD CONSTRAINT orders_status_check CHECK (status IN
        ('held', 'paying', 'grouped', 'paid', 'cancelled', 'expired', 'refunded'))`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE sales.orders DROP CONSTRAINT orders_status_check`);
    await q.query(`
      ALTER TABLE sales.orders ADD CONSTRAINT orders_status_check CHECK (status IN
        ('held', 'paying', 'paid', 'cancelled', 'expired'))`);
    await q.query(`
      ALTER TABLE sales.orders DROP COLUMN unit_price_minor, DROP COLUMN discount_minor,
        DROP COLUMN refunded_at, DROP COLUMN refund_reason`);
    await q.query(`
      ALTER TABLE sales.drops DROP COLUMN audience_tier, DROP COLUMN share_discount_minor`);
  }
}
