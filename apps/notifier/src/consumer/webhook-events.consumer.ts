import {
  Inject,
  Injectable,
  Logger,
  OnApplicationBootstrap,
  OnApplicationShutdown,
} from '@nestjs/common';
import { FlashdropConfig } from '@flashdrop/config';
import {
  consumeEvents,
  createEventsConsumer,
  decodeEnvelope,
  KafkaConnection,
  KnownEnvelope,
  Topic,
  Topics,
} from '@flashdrop/events';
import { MetricsRegistry } from '@flashdrop/http';
import { Inventory } from '@flashdrop/inventory';
import {
  deliveryIdOf,
  Endpoint,
  NewDelivery,
  seqOfEventId,
  webhookMappingOf,
  WebhookMapping,
  WebhooksDatabase,
} from '@flashdrop/webhooks';
import { Consumer, EachBatchPayload } from 'kafkajs';
import { Counter } from 'prom-client';
import { DeliveryLoop } from '../delivery/delivery-loop';
import { DeliveryBody, deliveryData } from './delivery-body';

/** The topics whose events can become webhook events (drop.*, order and hold events). */
const CONSUMED: readonly Topic[] = [Topics.drops, Topics.sales];
/** Messages handled per step; offsets are resolved after each step's deliveries are recorded. */
const CHUNK = 500;

/** The consumer group's name: one per stack (the client id differs per stack and test slot). */
export function webhooksGroupId(config: FlashdropConfig): string {
  return `${config.KAFKA_CLIENT_ID}-webhooks`;
}

/**
 * Turns published events into webhook deliveries: for each event a webhook type maps from
 * (libs/webhooks WEBHOOK_SOURCES), one delivery per webhook of the drop's brand subscribed to
 * it and registered by the time the event happened.
 *
 * Delivery guarantee: at least once from Kafka (offsets are committed only after the step's
 * deliveries are recorded), exactly once in effect: a delivery's key is (webhook, event id),
 * recorded with ON CONFLICT DO NOTHING, so a replayed message records nothing new.
 * Partition key: the drop id, so one drop's events arrive in order (seq is derived from the
 * event id in any case). Poison messages are skipped here (analytics dead-letters them).
 * This consumer writes only to its own schema and never waits on a receiver: a dead receiver's
 * backlog grows in its own rows, never in this pipeline.
 */
@Injectable()
export class WebhookEventsConsumer implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(WebhookEventsConsumer.name);
  private consumer?: Consumer;
  private stopped = false;
  /** Drop id -> brand id (a drop's brand never changes). */
  private readonly brands = new Map<string, string>();
  private readonly recorded: Counter;

  constructor(
    @Inject(FlashdropConfig) private readonly config: FlashdropConfig,
    private readonly kafka: KafkaConnection,
    private readonly inventory: Inventory,
    private readonly db: WebhooksDatabase,
    private readonly loop: DeliveryLoop,
    metrics: MetricsRegistry,
  ) {
    this.recorded = new Counter({
      name: 'webhook_deliveries_recorded_total',
      help: 'deliveries recorded from published events (one per event and subscribed webhook)',
      registers: [metrics.registry],
    });
  }

  onApplicationBootstrap(): void {
    void this.startWithRetry();
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopped = true;
    await this.consumer?.disconnect().catch(() => undefined);
  }

  private async startWithRetry(): Promise<void> {
    while (!this.stopped) {
      const consumer = createEventsConsumer(this.kafka.kafka, webhooksGroupId(this.config));
      try {
        await consumeEvents(consumer, CONSUMED, this.config.KAFKA_TOPIC_PREFIX, (payload) =>
          this.onBatch(payload),
        );
        this.consumer = consumer;
        return;
      } catch (error) {
        this.logger.warn(`webhook consumer did not start, retrying: ${String(error)}`);
        await consumer.disconnect().catch(() => undefined);
        await new Promise((r) => setTimeout(r, 1000));
      }
    }
  }

  private async onBatch(payload: EachBatchPayload): Promise<void> {
    const { batch, resolveOffset, heartbeat, commitOffsetsIfNecessary, isRunning, isStale } =
      payload;
    for (let i = 0; i < batch.messages.length; i += CHUNK) {
      if (!isRunning() || isStale()) break;
      const messages = batch.messages.slice(i, i + CHUNK);
      const events: { event: KnownEnvelope; mapping: WebhookMapping }[] = [];
      for (const message of messages) {
        const decoded = decodeEnvelope(message.value);
        if (!decoded.ok) continue;
        const mapping = webhookMappingOf(decoded.value.type, decoded.value.data);
        if (mapping) events.push({ event: decoded.value, mapping });
      }
      if (events.length > 0) {
        await this.db.open();
        const recorded = await this.db.deliveries.record(
          await this.deliveriesOf(events),
          this.config.WEBHOOK_MAX_BACKLOG,
        );
        if (recorded > 0) {
          this.recorded.inc(recorded);
          this.loop.poke();
        }
      }
      // Only now, with the step's deliveries recorded, may its offsets be committed.
      resolveOffset(messages[messages.length - 1].offset);
      await commitOffsetsIfNecessary();
      await heartbeat();
    }
  }

  /** The deliveries of these events: one per subscribed webhook of each event's brand. */
  private async deliveriesOf(
    events: readonly { event: KnownEnvelope; mapping: WebhookMapping }[],
  ): Promise<NewDelivery[]> {
    const dropIds = [...new Set(events.map((e) => (e.event.data as { dropId: string }).dropId))];
    await Promise.all(dropIds.map((id) => this.brandOf(id)));
    const brandIds = [...new Set(dropIds.map((id) => this.brands.get(id)).filter(isString))];
    const byBrand = new Map<string, Endpoint[]>();
    for (const endpoint of await this.db.endpoints.ofBrands(brandIds)) {
      byBrand.set(endpoint.brandId, [...(byBrand.get(endpoint.brandId) ?? []), endpoint]);
    }
    const deliveries: NewDelivery[] = [];
    for (const { event, mapping } of events) {
      const dropId = (event.data as { dropId: string }).dropId;
      const brandId = this.brands.get(dropId);
      const seq = seqOfEventId(event.id);
      if (brandId === undefined || seq === undefined) continue;
      const occurredAt = Date.parse(event.occurredAt);
      // A webhook hears of what happened after it was registered (a replayed old event, or a
      // new webhook, never brings up the past).
      const subscribers = (byBrand.get(brandId) ?? []).filter(
        (e) => e.events.includes(mapping.type) && e.createdAt.getTime() <= occurredAt,
      );
      if (subscribers.length === 0) continue;
      const body: DeliveryBody = {
        id: deliveryIdOf(event.id),
        type: mapping.type,
        createdAt: event.occurredAt,
        seq,
        data: await deliveryData(this.inventory, event, mapping),
      };
      const json = JSON.stringify(body);
      for (const endpoint of subscribers) {
        deliveries.push({
          webhookId: endpoint.id,
          eventId: body.id,
          brandId,
          type: mapping.type,
          dropId,
          seq,
          body: json,
        });
      }
    }
    return deliveries;
  }

  private async brandOf(dropId: string): Promise<void> {
    if (this.brands.has(dropId)) return;
    const brandId = await this.inventory.ownerOf(dropId);
    if (brandId) this.brands.set(dropId, brandId);
  }
}

const isString = (v: string | undefined): v is string => v !== undefined;
