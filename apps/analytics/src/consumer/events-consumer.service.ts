import {
  Inject,
  Injectable,
  Logger,
  OnApplicationBootstrap,
  OnApplicationShutdown,
} from '@nestjs/common';
import { FlashdropConfig } from '@flashdrop/config';
import { KafkaConnection } from '@flashdrop/events';
import { MetricsRegistry } from '@flashdrop/http';
import { Counter } from 'prom-client';
import { StatsStore } from '../stats/stats-store';
import { EventsConsumer } from './events.consumer';

/** The consumer group's name: one per stack (the client id differs per stack and test slot). */
export function analyticsGroupId(config: FlashdropConfig): string {
  return `${config.KAFKA_CLIENT_ID}-analytics`;
}

/**
 * Starts the analytics consumer in the background (the service answers HTTP while Kafka is
 * still down) and keeps trying until it runs; kafkajs itself restarts a crashed consumer.
 */
@Injectable()
export class EventsConsumerService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(EventsConsumerService.name);
  private consumer?: EventsConsumer;
  private stopped = false;
  private readonly counters: Record<'applied' | 'duplicates' | 'deadLettered', Counter>;

  constructor(
    @Inject(FlashdropConfig) private readonly config: FlashdropConfig,
    private readonly kafka: KafkaConnection,
    private readonly store: StatsStore,
    metrics: MetricsRegistry,
  ) {
    const counter = (name: string, help: string) =>
      new Counter({ name, help, registers: [metrics.registry] });
    this.counters = {
      applied: counter('analytics_events_applied_total', 'events applied to the stats'),
      duplicates: counter('analytics_events_duplicate_total', 'events seen again and skipped'),
      deadLettered: counter('analytics_events_dead_lettered_total', 'poison messages set aside'),
    };
  }

  onApplicationBootstrap(): void {
    void this.startWithRetry();
  }

  private async startWithRetry(): Promise<void> {
    while (!this.stopped) {
      const consumer = new EventsConsumer(this.kafka.kafka, this.store, {
        groupId: analyticsGroupId(this.config),
        topicPrefix: this.config.KAFKA_TOPIC_PREFIX,
        onCounted: (applied, duplicates, deadLettered) => {
          if (applied) this.counters.applied.inc(applied);
          if (duplicates) this.counters.duplicates.inc(duplicates);
          if (deadLettered) this.counters.deadLettered.inc(deadLettered);
        },
      });
      try {
        await consumer.start();
        this.consumer = consumer;
        return;
      } catch (error) {
        this.logger.warn(`analytics consumer did not start, retrying: ${String(error)}`);
        await consumer.stop();
        await new Promise((r) => setTimeout(r, 1000));
      }
    }
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopped = true;
    await this.consumer?.stop();
  }
}
