import {
  Inject,
  Injectable,
  Logger,
  OnApplicationBootstrap,
  OnApplicationShutdown,
} from '@nestjs/common';
import { FlashdropConfig } from '@flashdrop/config';
import { MetricsRegistry } from '@flashdrop/http';
import {
  ClaimedDelivery,
  SecretBox,
  SIGNATURE_HEADER,
  signatureHeader,
  UrlPolicy,
  WebhooksDatabase,
} from '@flashdrop/webhooks';
import { Counter, Gauge } from 'prom-client';
import { afterFailure } from './backoff';
import { WebhookPoster } from './webhook-poster';

/** How often the loop looks for due deliveries when nothing pokes it (ms). */
const IDLE_POLL_MS = 200;

/**
 * Works off the recorded deliveries: claims the due ones, posts each signed, and records the
 * attempt (delivered, retried later with backoff, or given up after WEBHOOK_RETRY_FOR_MS).
 * Runs in every notifier process; claims are leased rows (SKIP LOCKED), so loops share the
 * work without a lock and a loop killed mid-attempt only delays its claims until their lease
 * runs out: the retry carries the same id, which the receiver dedupes on.
 *
 * Isolation, what must stay true: a webhook never holds more than WEBHOOK_CONCURRENCY of this
 * loop's attempts, each bounded by WEBHOOK_TIMEOUT_MS, and the claim skips webhooks at their
 * bound. A hanging receiver therefore holds its own few slots and nothing else: other brands'
 * deliveries are claimed and posted beside it, and the sale (other processes) never waits on
 * any of it. Its backlog stays in PostgreSQL (bounded by WEBHOOK_MAX_BACKLOG), not in memory.
 */
@Injectable()
export class DeliveryLoop implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(DeliveryLoop.name);
  private readonly poster: WebhookPoster;
  private readonly inFlight = new Map<string, number>();
  private readonly running = new Set<Promise<void>>();
  private total = 0;
  private timer?: NodeJS.Timeout;
  private pumping = false;
  private again = false;
  private stopped = false;
  private readonly attempts: Counter<'outcome'>;
  private readonly inFlightGauge: Gauge;

  constructor(
    private readonly db: WebhooksDatabase,
    private readonly box: SecretBox,
    policy: UrlPolicy,
    @Inject(FlashdropConfig) private readonly config: FlashdropConfig,
    metrics: MetricsRegistry,
  ) {
    this.poster = new WebhookPoster(policy, config.WEBHOOK_TIMEOUT_MS);
    this.attempts = new Counter({
      name: 'webhook_attempts_total',
      help: 'delivery attempts, by outcome (delivered, retry, failed: given up)',
      labelNames: ['outcome'] as const,
      registers: [metrics.registry],
    });
    this.inFlightGauge = new Gauge({
      name: 'webhook_attempts_in_flight',
      help: 'delivery attempts this notifier is running now',
      registers: [metrics.registry],
      collect: () => this.inFlightGauge.set(this.total),
    });
  }

  onApplicationBootstrap(): void {
    this.timer = setInterval(() => this.poke(), IDLE_POLL_MS);
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    await Promise.allSettled([...this.running]);
  }

  /** Look for due deliveries now (new ones were recorded, or a slot came free). */
  poke(): void {
    if (this.stopped) return;
    if (this.pumping) {
      this.again = true;
      return;
    }
    this.pumping = true;
    void this.pump().finally(() => {
      this.pumping = false;
      if (this.again) {
        this.again = false;
        this.poke();
      }
    });
  }

  private async pump(): Promise<void> {
    const free = this.config.WEBHOOK_MAX_IN_FLIGHT - this.total;
    if (free <= 0) return;
    let claimed: ClaimedDelivery[];
    try {
      await this.db.open();
      claimed = await this.db.deliveries.claim({
        inFlight: this.inFlight,
        perWebhook: this.config.WEBHOOK_CONCURRENCY,
        max: free,
        // Longer than any attempt can run, so a live loop's claim never runs out under it.
        leaseMs: this.config.WEBHOOK_TIMEOUT_MS + 5_000,
      });
    } catch (error) {
      this.logger.warn(`claiming deliveries failed: ${(error as Error).message}`);
      return;
    }
    for (const delivery of claimed) {
      this.inFlight.set(delivery.webhookId, (this.inFlight.get(delivery.webhookId) ?? 0) + 1);
      this.total++;
      const run = this.attempt(delivery).finally(() => {
        const left = (this.inFlight.get(delivery.webhookId) ?? 1) - 1;
        if (left > 0) this.inFlight.set(delivery.webhookId, left);
        else this.inFlight.delete(delivery.webhookId);
        this.total--;
        this.running.delete(run);
        this.poke();
      });
      this.running.add(run);
    }
  }

  /** One signed POST and its record. */
  private async attempt(delivery: ClaimedDelivery): Promise<void> {
    const at = new Date();
    let result: { statusCode?: number; error?: string; durationMs: number };
    try {
      const secret = this.box.open(delivery.secretSealed, delivery.webhookId);
      result = await this.poster.post(delivery.url, delivery.body, {
        [SIGNATURE_HEADER]: signatureHeader(secret, delivery.body, at.getTime() / 1000),
        'Flashdrop-Delivery': delivery.eventId,
      });
    } catch (error) {
      result = { error: (error as Error).message, durationMs: 0 };
    }
    const ok =
      result.statusCode !== undefined && result.statusCode >= 200 && result.statusCode < 300;
    const next = ok
      ? ({ delivered: true } as const)
      : afterFailure(delivery.attempts + 1, delivery.createdAt, new Date(), {
          baseMs: this.config.WEBHOOK_RETRY_BASE_MS,
          maxMs: this.config.WEBHOOK_RETRY_MAX_MS,
          retryForMs: this.config.WEBHOOK_RETRY_FOR_MS,
        });
    this.attempts.inc({ outcome: ok ? 'delivered' : 'failed' in next ? 'failed' : 'retry' });
    try {
      await this.db.deliveries.finish(
        delivery,
        {
          at,
          durationMs: result.durationMs,
          ...(result.statusCode === undefined ? {} : { statusCode: result.statusCode }),
          ...(result.error === undefined ? {} : { error: result.error.slice(0, 500) }),
        },
        next,
      );
    } catch (error) {
      // The lease runs out and the delivery is tried again: at least once, never lost.
      this.logger.warn(`recording an attempt failed: ${(error as Error).message}`);
    }
  }
}
