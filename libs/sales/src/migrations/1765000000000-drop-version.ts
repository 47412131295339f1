import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Each drop definition gets a version, raised by every edit. Redis keeps the version it mirrors
 * (libs/inventory mirror_drop), so a mirror that missed an edit is told apart from a current one
 * and repaired from here, and two syncs of different edits can never apply out of order.
 */
export class SalesDropVersion1765000000000 implements MigrationInterface {
  name = 'SalesDropVersion1765000000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE sales.drops ADD COLUMN version integer NOT NULL DEFAULT 1`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE sales.drops DROP COLUMN version`);
  }
}
