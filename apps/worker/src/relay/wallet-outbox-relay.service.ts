import {
  Inject,
  Injectable,
  Logger,
  OnApplicationBootstrap,
  OnApplicationShutdown,
} from '@nestjs/common';
import { FlashdropConfig } from '@flashdrop/config';
import {
  KafkaConnection,
  ResettableProducer,
  TableRelay,
  createIdempotentProducer,
} from '@flashdrop/events';
import { WalletOutbox } from '@flashdrop/ledger';
import { RedisConnection } from '@flashdrop/persistence';
import { Leases } from '../singleton/leases';
import { createRedlock, SingletonLoop } from '../singleton/singleton-loop';

/**
 * Runs the wallet-outbox relay (the wallet's outbox table, libs/ledger -> Kafka) in whichever
 * worker holds the `relay:wallet-outbox` lease. Resumes where it stopped: what is unpublished
 * is in the table.
 */
@Injectable()
export class WalletOutboxRelayService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(WalletOutboxRelayService.name);
  private outbox?: WalletOutbox;
  private producer?: ResettableProducer;
  private loop?: SingletonLoop;

  constructor(
    @Inject(FlashdropConfig) private readonly config: FlashdropConfig,
    private readonly redis: RedisConnection,
    private readonly kafka: KafkaConnection,
  ) {}

  onApplicationBootstrap(): void {
    if (!this.config.relayEnabled('wallet-outbox')) return;
    this.loop = new SingletonLoop(createRedlock(this.redis.client), {
      resource: Leases.walletOutboxRelay,
      leaseMs: 5000,
      intervalMs: 1000,
      lead: (signal) => this.lead(signal),
    });
    this.loop.start();
  }

  private async lead(signal: AbortSignal): Promise<void> {
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
    await this.loop?.stop();
    await this.producer?.reset();
    await this.outbox?.close().catch(() => undefined);
  }
}
