import { MigrationInterface, QueryRunner } from 'typeorm';

/** The sale's durable tables: drop definitions and the orders persisted from the streams. */
export class SalesDropsOrders1764000000000 implements MigrationInterface {
  name = 'SalesDropsOrders1764000000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE sales.drops (
        id text PRIMARY KEY,
        brand_id text NOT NULL,
        title text NOT NULL,
        sku text NOT NULL,
        price_minor bigint NOT NULL CHECK (price_minor > 0),
        currency text NOT NULL,
        quantity integer NOT NULL CHECK (quantity > 0),
        per_user_limit integer NOT NULL CHECK (per_user_limit > 0),
        reservation_required boolean NOT NULL,
        reservation_opens_at timestamptz,
        reservation_closes_at timestamptz,
        sale_starts_at timestamptz NOT NULL,
        sale_ends_at timestamptz,
        hold_seconds integer NOT NULL,
        paused boolean NOT NULL DEFAULT false,
        cancelled boolean NOT NULL DEFAULT false,
        created_at timestamptz NOT NULL,
        updated_at timestamptz NOT NULL
      )`);
    await q.query(`CREATE INDEX drops_brand_created ON sales.drops (brand_id, created_at)`);
    await q.query(`
      CREATE TABLE sales.orders (
        id text PRIMARY KEY,
        drop_id text NOT NULL,
        fan_id text NOT NULL,
        quantity integer NOT NULL CHECK (quantity > 0),
        amount_minor bigint NOT NULL,
        currency text NOT NULL,
        status text NOT NULL CHECK (status IN ('held', 'paying', 'paid', 'cancelled', 'expired')),
        created_at timestamptz NOT NULL,
        expires_at timestamptz NOT NULL,
        paid_at timestamptz,
        updated_at timestamptz NOT NULL
      )`);
    await q.query(`CREATE INDEX orders_fan_created ON sales.orders (fan_id, created_at)`);
    await q.query(`CREATE INDEX orders_drop ON sales.orders (drop_id)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE sales.orders`);
    await q.query(`DROP TABLE sales.drops`);
  }
}
