import { Injectable } from '@nestjs/common';
import { MetricsRegistry } from '@flashdrop/http';
import { WebhooksDatabase } from '@flashdrop/webhooks';
import { Gauge } from 'prom-client';

/**
 * Each brand's deliveries by state, on /metrics: `webhook_deliveries{brand_id, state}` with
 * state pending (waiting), failing (pending after a failed attempt) or failed (given up). Read
 * from PostgreSQL at scrape time, so every notifier reports the same, whoever delivers.
 */
@Injectable()
export class BacklogMetrics {
  constructor(db: WebhooksDatabase, metrics: MetricsRegistry) {
    const gauge: Gauge<'brand_id' | 'state'> = new Gauge({
      name: 'webhook_deliveries',
      help: 'deliveries by brand and state (pending, failing: pending after a failed attempt, failed: given up)',
      labelNames: ['brand_id', 'state'] as const,
      registers: [metrics.registry],
      collect: async () => {
        gauge.reset();
        const backlog = await db.deliveries.backlogByBrand().catch(() => []);
        for (const b of backlog) {
          gauge.set({ brand_id: b.brandId, state: 'pending' }, b.pending);
          gauge.set({ brand_id: b.brandId, state: 'failing' }, b.failing);
          gauge.set({ brand_id: b.brandId, state: 'failed' }, b.failed);
        }
      },
    });
  }
}
