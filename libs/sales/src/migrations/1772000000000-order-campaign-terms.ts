import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * What an order's hold decided besides its price, so that a drop Redis lost comes back with it
 * (Inventory.rebuildDrop): the referrer and the reward a payment pays them (a refund takes it
 * back), and the group-buy group the order is a member of, with when its payment reached the
 * escrow. NULL on orders without them, and on orders stored before this migration.
 */
export class OrderCampaignTerms1772000000000 implements MigrationInterface {
  name = 'OrderCampaignTerms1772000000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      ALTER TABLE sales.orders
        ADD COLUMN referrer_id text,
        ADD COLUMN reward_minor bigint CHECK (reward_minor > 0),
        ADD COLUMN group_id text,
        ADD COLUMN grouped_at timestamptz,
        ADD CONSTRAINT orders_reward_has_referrer CHECK ((referrer_id IS NULL) = (reward_minor IS NULL))`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`
      ALTER TABLE sales.orders DROP COLUMN referrer_id, DROP COLUMN reward_minor,
        DROP COLUMN group_id, DROP COLUMN grouped_at`);
  }
}
