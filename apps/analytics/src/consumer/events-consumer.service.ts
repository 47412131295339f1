import {
  Inject,
  Injectable,
  Logger,
  OnApplicationBootstrap,
  OnApplicationShutdown,
} from '@nestjs/common';
import { FlashdropConfig } from '@flashdrop/config';
import { KafkaConnection } from '@flashdrop/events';
import { RedisConnection } from '@flashdrop/persistence';
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

  constructor(
    @Inject(FlashdropConfig) private readonly config: FlashdropConfig,
    private readonly kafka: KafkaConnection,
    private readonly redis: RedisConnection,
    private readonly store: StatsStore,
  ) {}

  onApplicationBootstrap(): void {
    void this.startWithRetry();
  }

  private async startWithRetry(): Promise<void> {
    while (!this.stopped) {
      const consumer = new EventsConsumer(this.kafka.kafka, this.store, this.redis.client, {
        groupId: analyticsGroupId(this.config),
        topicPrefix: this.config.KAFKA_TOPIC_PREFIX,
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
