import { Inject, Injectable, Logger, OnApplicationShutdown } from '@nestjs/common';
import { FlashdropConfig } from '@flashdrop/config';
import { KafkaConnection, ResettableProducer, createIdempotentProducer } from '@flashdrop/events';
import { OutboxTrimmer, StreamRelay } from '@flashdrop/inventory';
import { connectRedis, RedisClient, RedisConnection, sleep } from '@flashdrop/persistence';
import { MetricsRegistry } from '@flashdrop/http';
import { Histogram } from 'prom-client';
import { LeadingWork, Singleton } from '../singleton/singleton';

/** How often the leader trims acknowledged outbox entries. */
const TRIM_EVERY_MS = 5000;

/**
 * Runs the Redis-stream relay and the trimmer in whichever worker holds the `relay:streams`
 * lease. Resumes where it stopped: the consumer group remembers what was acknowledged.
 */
@Singleton({
  name: 'relay:streams',
  leaseMs: 5000,
  everyMs: 1000,
  enabled: (config) => config.relayEnabled('streams'),
})
@Injectable()
export class StreamRelayService implements LeadingWork, OnApplicationShutdown {
  private readonly logger = new Logger(StreamRelayService.name);
  private reader?: RedisClient;
  private producer?: ResettableProducer;

  /** Entries per batch Kafka acknowledged, and the oldest entry's wait: the bench's stages read them. */
  private readonly batchEntries: Histogram;
  private readonly batchDelay: Histogram;

  constructor(
    @Inject(FlashdropConfig) private readonly config: FlashdropConfig,
    private readonly redis: RedisConnection,
    private readonly kafka: KafkaConnection,
    metrics: MetricsRegistry,
  ) {
    this.batchEntries = new Histogram({
      name: 'relay_batch_entries',
      help: 'Outbox stream entries per batch the relay sent to Kafka',
      buckets: [1, 5, 10, 25, 50, 100, 250, 500, 1000, 2500],
      registers: [metrics.registry],
    });
    this.batchDelay = new Histogram({
      name: 'relay_batch_delay_seconds',
      help: "Age of a batch's oldest entry when Kafka acknowledged it",
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [metrics.registry],
    });
  }

  async lead(signal: AbortSignal): Promise<void> {
    // No re-send of an unanswered command on this connection: a lost reply fails the round and
    // the next read starts again from the pending list. (relay_read.lua answers the pending
    // list first in any case, so even a re-sent read could not skip past what the lost one took.)
    this.reader ??= connectRedis(this.config, {
      connectionName: 'flashdrop-relay-reader',
      enableAutoPipelining: false,
      maxRetriesPerRequest: null,
      autoResendUnfulfilledCommands: false,
    });
    this.producer ??= new ResettableProducer(() => createIdempotentProducer(this.kafka.kafka));
    const relay = new StreamRelay(this.redis.client, this.reader, this.producer, {
      topicPrefix: this.config.KAFKA_TOPIC_PREFIX,
      onBatch: (entries, oldestAgeMs) => {
        this.batchEntries.observe(entries);
        this.batchDelay.observe(oldestAgeMs / 1000);
      },
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
    await this.producer?.reset();
    this.reader?.disconnect();
  }
}
