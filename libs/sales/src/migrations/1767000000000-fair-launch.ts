import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Fair launch (API.md "Fair launch"): how a drop allocates its units, the published record of
 * each draw (commitment, frozen entrants in pages, then the seed and winners), and every drop's
 * hash-chained allocation log.
 */
export class FairLaunch1767000000000 implements MigrationInterface {
  name = 'FairLaunch1767000000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      ALTER TABLE sales.drops ADD COLUMN allocation text NOT NULL DEFAULT 'first_come'
        CHECK (allocation IN ('first_come', 'draw'))`);
    // One row per draw, written when its seed is committed; seed, winners and drawn_at once
    // the draw is done (the seed is secret until then and lives only in Redis).
    await q.query(`
      CREATE TABLE sales.draws (
        drop_id text PRIMARY KEY,
        algorithm text NOT NULL,
        seed_commitment text NOT NULL,
        entrants integer NOT NULL CHECK (entrants >= 0),
        entrants_digest text NOT NULL,
        page_size integer NOT NULL CHECK (page_size > 0),
        committed_at timestamptz NOT NULL,
        seed text,
        winners text[],
        drawn_at timestamptz
      )`);
    // The frozen entrants, sorted, `page_size` per row: the pages of GET .../draw/entrants.
    await q.query(`
      CREATE TABLE sales.draw_entrants (
        drop_id text NOT NULL REFERENCES sales.draws (drop_id),
        page integer NOT NULL CHECK (page >= 0),
        fan_ids text[] NOT NULL,
        PRIMARY KEY (drop_id, page)
      )`);
    // Every unit handed out, per drop, numbered in the order the Lua scripts handed them out;
    // `hash` chains each entry to the one before (libs/fair allocation-chain.ts).
    await q.query(`
      CREATE TABLE sales.allocations (
        drop_id text NOT NULL,
        seq bigint NOT NULL CHECK (seq > 0),
        at timestamptz NOT NULL,
        kind text NOT NULL CHECK (kind IN ('grab', 'draw', 'backfill')),
        order_id text NOT NULL,
        fan_id text NOT NULL,
        quantity integer NOT NULL CHECK (quantity > 0),
        from_order_id text,
        hash text NOT NULL,
        PRIMARY KEY (drop_id, seq)
      )`);
    await q.query(`CREATE UNIQUE INDEX allocations_order ON sales.allocations (order_id)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE sales.allocations`);
    await q.query(`DROP TABLE sales.draw_entrants`);
    await q.query(`DROP TABLE sales.draws`);
    await q.query(`ALTER TABLE sales.drops DROP COLUMN allocation`);
  }
}
