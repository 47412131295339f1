import { Inject, Injectable, Logger, OnApplicationShutdown } from '@nestjs/common';
import { FlashdropConfig } from '@flashdrop/config';
import {
  KafkaConnection,
  ResettableProducer,
  TableRelay,
  createIdempotentProducer,
} from '@flashdrop/events';
import { WalletOutbox } from '@flashdrop/ledger';
import { LeadingWork, Singleton } from '../singleton/singleton';

/**
 * Runs the wallet-outbox relay (the wallet's outbox table, libs/ledger -> Kafka) in whichever
 * worker holds the `relay:wallet-outbox` lease. Resumes where it stopped: what is unpublished
 * is in the table.
 */
@Singleton({
  name: 'relay:wallet-outbox',
  leaseMs: 5000,
  everyMs: 1000,
  enabled: (config) => config.relayEnabled('wallet-outbox'),
})
@Injectable()
export class WalletOutboxRelayService implements LeadingWork, OnApplicationShutdown {
  private readonly logger = new Logger(WalletOutboxRelayService.name);
  private outbox?: WalletOutbox;
  private producer?: ResettableProducer;

  constructor(
    @Inject(FlashdropConfig) private readonly config: FlashdropConfig,
    private readonly kafka: KafkaConnection,
  ) {}

  async lead(signal: AbortSignal): Promise<void> {
    this.outbox ??= WalletOutbox.pool(this.config, {
      applicationName: 'flashdrop-wallet-outbox-relay',
      poolSize: 2,
    });
    await this.outbox.open();
    this.producer ??= new ResettableProducer(() => createIdempotentProducer(this.kafka.kafka));
    const relay = new TableRelay(this.outbox, this.producer, {
      topicPrefix: this.config.KAFKA_TOPIC_PREFIX,
    });
    await relay.run(signal);
    this.logger.log(`wallet outbox relay stopped after ${relay.relayed} rows`);
  }

  async onApplicationShutdown(): Promise<void> {
    await this.producer?.reset();
    await this.outbox?.close().catch(() => undefined);
  }
}
