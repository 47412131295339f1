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
  OutboxTrimmer,
  StreamRelay,
  ResettableProducer,
  createIdempotentProducer,
  sleep,
} from '@flashdrop/events';
import { RedisConnection, createRedis } from '@flashdrop/persistence';
import Redis from 'ioredis';
import { LeaderLease } from '../leadership/leader-lease';

/** How often the leader trims acknowledged outbox entries. */
const TRIM_EVERY_MS = 5000;

/**
 * Runs the Redis-stream relay and the trimmer in whichever worker holds the `relay:streams`
 * lease. Resumes where it stopped: the consumer group remembers what was acknowledged.
 */
@Injectable()
export class StreamRelayService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(StreamRelayService.name);
  private readonly stop = new AbortController();
  private reader?: Redis;
  private producer?: ResettableProducer;
  private loop?: Promise<void>;

  constructor(
    @Inject(FlashdropConfig) private readonly config: FlashdropConfig,
    private readonly redis: RedisConnection,
    private readonly kafka: KafkaConnection,
  ) {}

  onApplicationBootstrap(): void {
    if (!this.config.relayEnabled('streams')) return;
    const lease = new LeaderLease(this.redis.client, 'locks:relay:streams');
    this.loop = lease.run((signal) => this.lead(signal), this.stop.signal);
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
    this.stop.abort();
    await this.loop?.catch(() => undefined);
    await this.producer?.reset();
    this.reader?.disconnect();
  }
}
