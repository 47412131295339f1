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
import { RedisConnection } from '@flashdrop/persistence';
import { DataSource } from 'typeorm';
import { createRedlock, SingletonLoop } from '../singleton/singleton-loop';

/** The wallet's outbox table (apps/wallet owns it and writes it in its transactions). */
export const WALLET_OUTBOX_TABLE = 'wallet.outbox';

/**
 * Runs the wallet-outbox relay (PostgreSQL `wallet.outbox` -> Kafka) in whichever worker holds
 * the `relay:wallet-outbox` lease. Resumes where it stopped: what is unpublished is in the table.
 */
@Injectable()
export class WalletOutboxRelayService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(WalletOutboxRelayService.name);
  private dataSource?: DataSource;
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
      resource: 'locks:relay:wallet-outbox',
      leaseMs: 5000,
      intervalMs: 1000,
      lead: (signal) => this.lead(signal),
    });
    this.loop.start();
  }

  private async lead(signal: AbortSignal): Promise<void> {
    if (!this.dataSource?.isInitialized) {
      this.dataSource = new DataSource({
        type: 'postgres',
        url: this.config.DATABASE_URL,
        applicationName: 'flashdrop-wallet-outbox-relay',
        extra: { max: 2, connectionTimeoutMillis: 3000 },
      });
      await this.dataSource.initialize();
    }
    this.producer ??= new ResettableProducer(() => createIdempotentProducer(this.kafka.kafka));
    const dataSource = this.dataSource;
    const relay = new TableRelay(
      (sql, params) => dataSource.query(sql, params) as Promise<unknown[]>,
      this.producer,
      { table: WALLET_OUTBOX_TABLE, topicPrefix: this.config.KAFKA_TOPIC_PREFIX },
    );
    await relay.run(signal);
    this.logger.log(`wallet outbox relay stopped after ${relay.relayed} rows`);
  }

  async onApplicationShutdown(): Promise<void> {
    await this.loop?.stop();
    await this.producer?.reset();
    await this.dataSource?.destroy().catch(() => undefined);
  }
}
