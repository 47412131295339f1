import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Referral rewards (docs/api.md "Campaigns"): a drop's reward per paid order of a referred fan.
 * What each paid order's referrer got is the ledger's (a `referral_reward` transfer per order).
 */
export class ReferralRewards1769000000000 implements MigrationInterface {
  name = 'ReferralRewards1769000000000';

  async up(q: QueryRunner): Promise<void> {
    // At most what a discounted unit costs: the payment of any order covers its reward.
    await q.query(`
      ALTER TABLE sales.drops
        ADD COLUMN referral_reward_minor bigint NOT NULL DEFAULT 0
          CHECK (referral_reward_minor >= 0
                 AND referral_reward_minor <= price_minor - share_discount_minor)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE sales.drops DROP COLUMN referral_reward_minor`);
  }
}
