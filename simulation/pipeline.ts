import { FlashdropConfig } from '@flashdrop/config';
import {
  createIdempotentProducer,
  createKafka,
  ensureTopics,
  ResettableProducer,
} from '@flashdrop/events';
import { Inventory, OutboxStreamGroups, StreamRelay } from '@flashdrop/inventory';
import { createRedis } from '@flashdrop/persistence';
import { contractFields, dropKeys, readTruth } from '@flashdrop/testing';
import Redis from 'ioredis';
import { EventsConsumer } from '../apps/analytics/src/consumer/events.consumer';
import { StatsStore } from '../apps/analytics/src/stats/stats-store';

/** How long the pipeline may take to bring the stats to the truth after a seed's last step. */
const DRAIN_LIMIT_MS = 20_000;

/**
 * Invariant 7 at the end of a seed: the worker's stream relay carries the seed's outbox to Kafka
 * (topics of the simulator's own prefix), analytics' consumer applies it to the stats in the
 * simulator's Redis, and the stats must equal the stored truth once the pipeline has drained;
 * then the relay re-sends the whole stream (a relay that lost its acknowledgements) and the
 * stats must not move.
 */
export class Pipeline {
  private relayStop?: AbortController;
  private relayRun?: Promise<void>;
  private relayReader?: Redis;

  private constructor(
    private readonly redisUrl: string,
    private readonly redis: Redis,
    private readonly producer: ResettableProducer,
    private readonly consumer: EventsConsumer,
    private readonly store: StatsStore,
    private readonly topicPrefix: string,
  ) {}

  static async open(
    redisUrl: string,
    config: FlashdropConfig,
    topicPrefix: string,
  ): Promise<Pipeline> {
    const kafka = createKafka('flashdrop-simulation', config.kafkaBrokers);
    const admin = kafka.admin();
    await admin.connect();
    try {
      await ensureTopics(admin, topicPrefix, {
        partitions: config.KAFKA_PARTITIONS,
        replicationFactor: config.KAFKA_REPLICATION_FACTOR,
      });
    } finally {
      await admin.disconnect();
    }
    const redis = createRedis(redisUrl, { connectionName: 'flashdrop-simulation-pipeline' });
    const store = new StatsStore(redis);
    const consumer = new EventsConsumer(kafka, store, {
      groupId: `${topicPrefix}analytics`,
      topicPrefix,
    });
    await consumer.start();
    const producer = new ResettableProducer(() => createIdempotentProducer(kafka));
    return new Pipeline(redisUrl, redis, producer, consumer, store, topicPrefix);
  }

  /** A relay for the new seed (the one before knew streams and groups a FLUSHDB removed). */
  async beginSeed(): Promise<void> {
    await this.stopRelay();
    this.relayReader = createRedis(this.redisUrl, { connectionName: 'flashdrop-simulation-relay' });
    const relay = new StreamRelay(this.redis, this.relayReader, this.producer, {
      topicPrefix: this.topicPrefix,
      blockMs: 50,
    });
    this.relayStop = new AbortController();
    this.relayRun = relay.run(this.relayStop.signal);
  }

  /** Answers what is wrong with invariant 7 for the drop, or undefined. */
  async settle(inventory: Inventory, dropId: string): Promise<string | undefined> {
    // What the worker's other singletons would announce: pending reservations, counted refusals.
    await inventory.countReservations(dropId);
    await inventory.refusals.flush();
    const first = await this.statsMatch(inventory, dropId);
    if (first) return `invariant 7 (events): ${first}`;
    // The relay re-sends everything (its acknowledgements lost): nothing may count twice.
    const key = dropKeys(dropId).events;
    const seen = this.consumed();
    const entries = await this.redis.xlen(key);
    await this.redis.xgroup('SETID', key, OutboxStreamGroups.kafkaRelay, '0');
    const deadline = Date.now() + DRAIN_LIMIT_MS;
    while (this.consumed() < seen + entries) {
      if (Date.now() > deadline) return `invariant 7: the re-sent stream was not consumed`;
      await new Promise((r) => setTimeout(r, 50));
    }
    const again = await this.statsMatch(inventory, dropId);
    return again ? `invariant 7 (events) after the relay re-sent the stream: ${again}` : undefined;
  }

  async close(): Promise<void> {
    await this.stopRelay();
    await this.consumer.stop();
    await this.producer.reset();
    this.redis.disconnect();
  }

  /** Events the consumer has taken so far (applied, dropped as duplicates, or dead-lettered). */
  private consumed(): number {
    return this.consumer.applied + this.consumer.duplicates + this.consumer.deadLettered;
  }

  private async statsMatch(inventory: Inventory, dropId: string): Promise<string | undefined> {
    const deadline = Date.now() + DRAIN_LIMIT_MS;
    let last = '';
    for (;;) {
      const truth = JSON.stringify(await readTruth(inventory, dropId));
      const stats = JSON.stringify(contractFields(await this.store.read(dropId)));
      if (truth === stats && (await this.relayed(dropId))) return undefined;
      last = `stats ${stats} != truth ${truth}`;
      if (Date.now() > deadline) return last;
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** Every entry of the drop's stream sent and acknowledged by the relay. */
  private async relayed(dropId: string): Promise<boolean> {
    const key = dropKeys(dropId).events;
    const groups = (await this.redis.xinfo('GROUPS', key)) as unknown[][];
    const last = await this.redis.xrevrange(key, '+', '-', 'COUNT', 1);
    for (const g of groups) {
      const info = new Map<string, unknown>();
      for (let i = 0; i + 1 < g.length; i += 2) info.set(String(g[i]), g[i + 1]);
      if (info.get('name') !== OutboxStreamGroups.kafkaRelay) continue;
      // A retired drop's acknowledged entries are deleted (retire_drop.lua): an empty stream
      // has nothing left to relay.
      const newest = last[0]?.[0];
      return (
        Number(info.get('pending')) === 0 &&
        (newest === undefined || info.get('last-delivered-id') === newest)
      );
    }
    return false;
  }

  private async stopRelay(): Promise<void> {
    this.relayStop?.abort();
    await this.relayRun?.catch(() => undefined);
    this.relayReader?.disconnect();
    this.relayStop = undefined;
    this.relayRun = undefined;
  }
}
