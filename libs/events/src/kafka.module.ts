import { Global, Inject, Injectable, Logger, Module, OnApplicationShutdown } from '@nestjs/common';
import { FlashdropConfig } from '@flashdrop/config';
import { withTimeout } from '@flashdrop/persistence';
import { Admin, Kafka } from 'kafkajs';
import { createKafka } from './kafka';

/**
 * The process's Kafka client and one admin connection used for health checks. Connecting is
 * lazy and retried on each check, so a service starts (and reports not-ready) while Kafka is
 * down instead of failing to boot.
 */
@Injectable()
export class KafkaConnection implements OnApplicationShutdown {
  private readonly logger = new Logger(KafkaConnection.name);
  readonly kafka: Kafka;
  private admin?: Admin;

  constructor(@Inject(FlashdropConfig) config: FlashdropConfig) {
    this.kafka = createKafka(config.KAFKA_CLIENT_ID, config.kafkaBrokers);
  }

  async ping(timeoutMs = 2000): Promise<void> {
    const admin = this.admin ?? this.kafka.admin({ retry: { retries: 0 } });
    const connected = this.admin !== undefined;
    try {
      await withTimeout(
        (async () => {
          if (!connected) await admin.connect();
          await admin.describeCluster();
        })(),
        timeoutMs,
        'kafka',
      );
      this.admin = admin;
    } catch (e) {
      this.logger.warn(`kafka check failed: ${(e as Error).message}`);
      this.admin = undefined;
      await admin.disconnect().catch(() => undefined);
      throw e;
    }
  }

  async onApplicationShutdown(): Promise<void> {
    await this.admin?.disconnect().catch(() => undefined);
  }
}

@Global()
@Module({ providers: [KafkaConnection], exports: [KafkaConnection] })
export class KafkaModule {}
