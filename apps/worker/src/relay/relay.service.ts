import {
  Inject,
  Injectable,
  Logger,
  OnApplicationBootstrap,
  OnApplicationShutdown,
} from '@nestjs/common';
import { FlashdropConfig } from '@flashdrop/config';
import { KafkaConnection, ResettableProducer, createIdempotentProducer } from '@flashdrop/events';
import { OutboxTrimmer, StreamRelay } from '@flashdrop/inventory';
import { RedisConnection, createRedis, sleep } from '@flashdrop/persistence';
import Redis from 'ioredis';
import { Leases } from '../singleton/leases';
import { createRedlock, SingletonLoop } from '../singleton/singleton-loop';

/** How often the leader trims acknowledged outbox entries. */
const TRIM_EVERY_MS = 5000;

/**
 * Runs the Redis-stream relay and the trimmer in whichever worker holds the `relay:streams`
 * lease. Resumes where it stopped: the consumer group remembers what was acknowledged.
 */
@Injectable()
export class StreamRelayService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(StreamRelayService.name);
  private reader?: Redis;
  private producer?: ResettableProducer;
  private loop?: SingletonLoop;

  constructor(
    @Inject(FlashdropConfig) private readonly config: FlashdropConfig,
    private readonly redis: RedisConnection,
    private readonly kafka: KafkaConnection,
  ) {}

  onApplicationBootstrap(): void {
    if (!this.config.relayEnabled('streams')) return;
    this.loop = new SingletonLoop(createRedlock(this.redis.client), {
      resource: Leases.streamRelay,
      leaseMs: 5000,
      intervalMs: 1000,
      lead: (signal) => this.lead(signal),
    });
    this.loop.start();
  }

  private async lead(signal: AbortSignal): Promise<void> {
    this.reader ??= createRedis(this.config.REDIS_URL, {
      connectionName: 'flashdrop-relay-reader',
      enableAutoPipelining: false,
      maxRetriesPerRequest: null,
    });
    this.producer ??= new ResettableProducer(() => createIdempotentProducer(this.kafka.kafka));
    const relay = new StreamRelay(this.redis.client, this.reader, this.producer, {
      topicPrefix: this.config.KAFKA_TOPIC_PREFIX,
    });
    const trimmer = new OutboxTrimmer(this.redis.client);
    const trimming = (async () => {
      while (!signal.aborted) {
        await sleep(TRIM_EVERY_MS, signal);
        if (!signal.aborted) await trimmer.trimAll().catch(() => undefined);
      }
    })();
    await relay.run(signal);
    await trimming;
    this.logger.log(`relay stopped after ${relay.relayed} entries`);
  }

  async onApplicationShutdown(): Promise<void> {
    await this.loop?.stop();
    await this.producer?.reset();
    this.reader?.disconnect();
  }
}
