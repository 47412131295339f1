import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Group buy (docs/api.md "Campaigns"): a drop's group size (2..50) and how long a group has to
 * complete (60..86400 s). Both absent on a drop without groups; a draw drop never has groups.
 * The groups themselves live in Redis (libs/inventory); the ledger holds their escrow.
 */
export class GroupBuy1770000000000 implements MigrationInterface {
  name = 'GroupBuy1770000000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      ALTER TABLE sales.drops
        ADD COLUMN group_size int CHECK (group_size BETWEEN 2 AND 50),
        ADD COLUMN group_seconds int CHECK (group_seconds BETWEEN 60 AND 86400),
        ADD CONSTRAINT drops_group_first_come CHECK (group_size IS NULL OR allocation = 'first_come')`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE sales.drops DROP COLUMN group_size, DROP COLUMN group_seconds`);
  }
}
