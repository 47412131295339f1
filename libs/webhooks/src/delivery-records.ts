import { DataSource } from 'typeorm';

/** One event for one webhook, as the consumer records it. */
export interface NewDelivery {
  readonly webhookId: string;
  readonly eventId: string;
  readonly brandId: string;
  readonly type: string;
  readonly dropId: string | null;
  readonly seq: number;
  readonly body: string;
}

/** A delivery a delivery loop has claimed: what to post, where, and its claim. */
export interface ClaimedDelivery {
  readonly webhookId: string;
  readonly eventId: string;
  readonly brandId: string;
  readonly body: string;
  /** Attempts made before this one. */
  readonly attempts: number;
  readonly createdAt: Date;
  readonly leaseToken: string;
  readonly url: string;
  readonly secretSealed: string;
}

/** What one attempt got. */
export interface AttemptOutcome {
  readonly at: Date;
  readonly statusCode?: number;
  readonly error?: string;
  readonly durationMs: number;
}

/** A delivery with its attempts, newest first, as GET /v1/webhooks/:id/deliveries shows it. */
export interface DeliveryView {
  readonly id: string;
  readonly type: string;
  readonly status: 'pending' | 'delivered' | 'failed';
  readonly attempts: {
    readonly attempt: number;
    readonly at: string;
    readonly statusCode?: number;
    readonly error?: string;
    readonly durationMs: number;
  }[];
  readonly createdAt: string;
  readonly nextAttemptAt?: string;
  readonly deliveredAt?: string;
}

/** Deliveries of one brand by state (the dashboard, /metrics). */
export interface BrandBacklog {
  readonly brandId: string;
  readonly webhooks: number;
  /** Waiting for a first attempt or a retry. */
  readonly pending: number;
  /** Of those, the ones whose last attempt failed. */
  readonly failing: number;
  /** Given up on (retried for the whole retry window, or refused for a full backlog). */
  readonly failed: number;
  readonly delivered: number;
}

/**
 * `webhooks.deliveries` and `webhooks.attempts`, and their only door: one row per event and
 * webhook (recorded idempotently by the notifier's consumer), claimed by delivery loops under
 * a lease, and finished attempt by attempt.
 */
export class DeliveryRecords {
  constructor(private readonly db: DataSource) {}

  /**
   * Records deliveries, once each: a (webhook, event) pair already recorded is left as it is,
   * so an event read twice from Kafka is delivered once. A webhook whose pending backlog has
   * reached `maxBacklog` gets the new deliveries recorded as failed ('backlog full'), so a dead
   * receiver's backlog stays bounded and what it missed stays visible. Answers how many were new.
   */
  async record(deliveries: readonly NewDelivery[], maxBacklog: number): Promise<number> {
    if (deliveries.length === 0) return 0;
    const webhookIds = [...new Set(deliveries.map((d) => d.webhookId))];
    const backlog = (await this.db.query(
      `SELECT w.id, (SELECT count(*)::int FROM (
          SELECT 1 FROM webhooks.deliveries d
          WHERE d.webhook_id = w.id AND d.status = 'pending' LIMIT $2) x) AS pending
       FROM unnest($1::text[]) AS w(id)`,
      [webhookIds, maxBacklog],
    )) as { id: string; pending: number }[];
    const room = new Map(backlog.map((b) => [b.id, maxBacklog - b.pending]));
    const cols: unknown[][] = Array.from({ length: 9 }, () => []);
    for (const d of deliveries) {
      const left = room.get(d.webhookId) ?? 0;
      room.set(d.webhookId, left - 1);
      const full = left <= 0;
      [
        d.webhookId,
        d.eventId,
        d.brandId,
        d.type,
        d.dropId,
        d.seq,
        d.body,
        full ? 'failed' : 'pending',
        full ? `backlog full (${maxBacklog} pending): not delivered` : null,
      ].forEach((v, i) => cols[i].push(v));
    }
    const rows = (await this.db.query(
      `INSERT INTO webhooks.deliveries
         (webhook_id, event_id, brand_id, type, drop_id, seq, body, status, last_error)
       SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[],
         $6::bigint[], $7::text[], $8::text[], $9::text[])
       ON CONFLICT (webhook_id, event_id) DO NOTHING
       RETURNING event_id`,
      cols,
    )) as unknown[];
    return rows.length;
  }

  /**
   * Claims due deliveries for this loop: at most `perWebhook` in flight per webhook, counting
   * `inFlight` (what this loop already runs), and at most `max` in all. Each claim holds a
   * lease of `leaseMs` (longer than an attempt's timeout) under a fresh token; a loop that dies
   * mid-attempt loses its claims when the lease runs out and another loop retries them, with
   * the same id. SKIP LOCKED: concurrent loops never claim one delivery twice, nor wait on
   * each other.
   */
  async claim(options: {
    readonly inFlight: ReadonlyMap<string, number>;
    readonly perWebhook: number;
    readonly max: number;
    readonly leaseMs: number;
  }): Promise<ClaimedDelivery[]> {
    if (options.max <= 0) return [];
    const rows = (await this.db.query(
      `WITH busy AS (
         SELECT * FROM unnest($1::text[], $2::int[]) AS b(webhook_id, in_flight)
       ), picked AS (
         SELECT c.webhook_id, c.event_id
         FROM webhooks.endpoints e
         CROSS JOIN LATERAL (
           SELECT d.webhook_id, d.event_id FROM webhooks.deliveries d
           WHERE d.webhook_id = e.id AND d.status = 'pending' AND d.next_attempt_at <= now()
             AND (d.lease_until IS NULL OR d.lease_until < now())
           ORDER BY d.next_attempt_at
           LIMIT greatest(0, $3 - coalesce(
             (SELECT in_flight FROM busy WHERE busy.webhook_id = e.id), 0))
           FOR UPDATE OF d SKIP LOCKED
         ) c
         LIMIT $4
       )
       UPDATE webhooks.deliveries d
       SET lease_token = gen_random_uuid(), lease_until = now() + $5 * interval '1 millisecond'
       FROM picked, webhooks.endpoints e
       WHERE d.webhook_id = picked.webhook_id AND d.event_id = picked.event_id
         AND e.id = d.webhook_id
       RETURNING d.webhook_id, d.event_id, d.brand_id, d.body, d.attempts, d.created_at,
         d.lease_token, e.url, e.secret_sealed`,
      [
        [...options.inFlight.keys()],
        [...options.inFlight.values()],
        options.perWebhook,
        options.max,
        options.leaseMs,
      ],
    )) as [
      {
        webhook_id: string;
        event_id: string;
        brand_id: string;
        body: string;
        attempts: number;
        created_at: Date;
        lease_token: string;
        url: string;
        secret_sealed: string;
      }[],
      number,
    ];
    return rows[0].map((r) => ({
      webhookId: r.webhook_id,
      eventId: r.event_id,
      brandId: r.brand_id,
      body: r.body,
      attempts: r.attempts,
      createdAt: r.created_at,
      leaseToken: r.lease_token,
      url: r.url,
      secretSealed: r.secret_sealed,
    }));
  }

  /**
   * Records one attempt and what follows from it: delivered, retried at `retryAt`, or failed
   * for good. Only under the claim's own lease: a loop whose lease ran out (and whose delivery
   * another loop may have claimed since) changes nothing. Answers whether it was recorded.
   */
  async finish(
    claimed: ClaimedDelivery,
    outcome: AttemptOutcome,
    next: { readonly delivered: true } | { readonly retryAt: Date } | { readonly failed: true },
  ): Promise<boolean> {
    const status = 'delivered' in next ? 'delivered' : 'failed' in next ? 'failed' : 'pending';
    const retryAt = 'retryAt' in next ? next.retryAt : null;
    const rows = (await this.db.query(
      // Every parameter cast: PostgreSQL deduces one type per parameter, and $8 (a time) is
      // used in three places it could read differently.
      `WITH updated AS (
         UPDATE webhooks.deliveries SET
           status = $4::text, attempts = attempts + 1, lease_token = NULL, lease_until = NULL,
           next_attempt_at = coalesce($5::timestamptz, next_attempt_at),
           last_status = $6::int, last_error = $7::text, last_attempt_at = $8::timestamptz,
           delivered_at = CASE WHEN $4::text = 'delivered' THEN $8::timestamptz END
         WHERE webhook_id = $1::text AND event_id = $2::text AND lease_token = $3::uuid
         RETURNING webhook_id, event_id, attempts
       )
       INSERT INTO webhooks.attempts (webhook_id, event_id, attempt, at, status_code, error,
         duration_ms)
       SELECT webhook_id, event_id, attempts, $8::timestamptz, $6::int, $7::text, $9::int
       FROM updated
       RETURNING attempt`,
      [
        claimed.webhookId,
        claimed.eventId,
        claimed.leaseToken,
        status,
        retryAt,
        outcome.statusCode ?? null,
        outcome.error ?? null,
        outcome.at,
        Math.round(outcome.durationMs),
      ],
    )) as unknown[];
    return rows.length > 0;
  }

  /** The webhook's most recent deliveries with their attempts, newest first. */
  async recent(webhookId: string, limit: number): Promise<DeliveryView[]> {
    const rows = (await this.db.query(
      `SELECT d.event_id, d.type, d.status, d.created_at, d.next_attempt_at, d.delivered_at,
         coalesce((SELECT json_agg(json_build_object('attempt', a.attempt, 'at', a.at,
             'statusCode', a.status_code, 'error', a.error, 'durationMs', a.duration_ms)
             ORDER BY a.attempt DESC)
           FROM webhooks.attempts a
           WHERE a.webhook_id = d.webhook_id AND a.event_id = d.event_id), '[]') AS attempts
       FROM webhooks.deliveries d
       WHERE d.webhook_id = $1
       ORDER BY d.created_at DESC, d.seq DESC
       LIMIT $2`,
      [webhookId, limit],
    )) as {
      event_id: string;
      type: string;
      status: DeliveryView['status'];
      created_at: Date;
      next_attempt_at: Date;
      delivered_at: Date | null;
      attempts: {
        attempt: number;
        at: string;
        statusCode: number | null;
        error: string | null;
        durationMs: number;
      }[];
    }[];
    return rows.map((r) => ({
      id: r.event_id,
      type: r.type,
      status: r.status,
      attempts: r.attempts.map((a) => ({
        attempt: a.attempt,
        at: new Date(a.at).toISOString(),
        ...(a.statusCode === null ? {} : { statusCode: a.statusCode }),
        ...(a.error === null ? {} : { error: a.error }),
        durationMs: a.durationMs,
      })),
      createdAt: r.created_at.toISOString(),
      ...(r.status === 'pending' ? { nextAttemptAt: r.next_attempt_at.toISOString() } : {}),
      ...(r.delivered_at ? { deliveredAt: r.delivered_at.toISOString() } : {}),
    }));
  }

  /** Every brand with webhooks: its deliveries by state. */
  async backlogByBrand(): Promise<BrandBacklog[]> {
    const rows = (await this.db.query(
      `SELECT e.brand_id, count(DISTINCT e.id)::int AS webhooks,
         count(d.event_id) FILTER (WHERE d.status = 'pending')::int AS pending,
         count(d.event_id) FILTER (WHERE d.status = 'pending' AND d.attempts > 0)::int AS failing,
         count(d.event_id) FILTER (WHERE d.status = 'failed')::int AS failed,
         count(d.event_id) FILTER (WHERE d.status = 'delivered')::int AS delivered
       FROM webhooks.endpoints e LEFT JOIN webhooks.deliveries d ON d.webhook_id = e.id
       GROUP BY e.brand_id ORDER BY e.brand_id`,
    )) as {
      brand_id: string;
      webhooks: number;
      pending: number;
      failing: number;
      failed: number;
      delivered: number;
    }[];
    return rows.map((r) => ({
      brandId: r.brand_id,
      webhooks: r.webhooks,
      pending: r.pending,
      failing: r.failing,
      failed: r.failed,
      delivered: r.delivered,
    }));
  }
}
