import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Brands' webhooks (docs/webhooks.md): the endpoints brands register through the API, and one
 * delivery per event and endpoint, written by the notifier's consumer and worked off by its
 * delivery loop, with every attempt it made.
 */
export class Webhooks1766100000000 implements MigrationInterface {
  name = 'Webhooks1766100000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE webhooks.endpoints (
        id text PRIMARY KEY,
        brand_id text NOT NULL,
        url text NOT NULL,
        events text[] NOT NULL CHECK (cardinality(events) > 0),
        -- The signing secret, sealed (libs/webhooks SecretBox): never stored in clear.
        secret_sealed text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE INDEX endpoints_brand ON webhooks.endpoints (brand_id, created_at)`);
    await q.query(`
      CREATE TABLE webhooks.deliveries (
        webhook_id text NOT NULL REFERENCES webhooks.endpoints (id) ON DELETE CASCADE,
        -- The delivery's id as the receiver sees it, the same on every retry.
        event_id text NOT NULL,
        brand_id text NOT NULL,
        type text NOT NULL,
        drop_id text,
        seq bigint NOT NULL,
        -- The exact JSON posted (signed afresh at each attempt, byte for byte the same).
        body text NOT NULL,
        status text NOT NULL DEFAULT 'pending'
          CHECK (status IN ('pending', 'delivered', 'failed')),
        attempts integer NOT NULL DEFAULT 0,
        next_attempt_at timestamptz NOT NULL DEFAULT now(),
        -- Claimed by one delivery loop until then (a crashed one's claim runs out).
        lease_token uuid,
        lease_until timestamptz,
        last_status integer,
        last_error text,
        last_attempt_at timestamptz,
        delivered_at timestamptz,
        created_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (webhook_id, event_id)
      )`);
    await q.query(`
      CREATE INDEX deliveries_due ON webhooks.deliveries (webhook_id, next_attempt_at)
        WHERE status = 'pending'`);
    await q.query(`CREATE INDEX deliveries_recent ON webhooks.deliveries (webhook_id, created_at)`);
    await q.query(`
      CREATE TABLE webhooks.attempts (
        webhook_id text NOT NULL,
        event_id text NOT NULL,
        attempt integer NOT NULL CHECK (attempt > 0),
        at timestamptz NOT NULL,
        status_code integer,
        error text,
        duration_ms integer NOT NULL,
        PRIMARY KEY (webhook_id, event_id, attempt),
        FOREIGN KEY (webhook_id, event_id)
          REFERENCES webhooks.deliveries (webhook_id, event_id) ON DELETE CASCADE
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE webhooks.attempts`);
    await q.query(`DROP TABLE webhooks.deliveries`);
    await q.query(`DROP TABLE webhooks.endpoints`);
  }
}
