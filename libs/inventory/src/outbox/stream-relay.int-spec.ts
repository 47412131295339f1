import {
  createIdempotentProducer,
  createKafka,
  ensureTopics,
  EventHeaders,
  ResettableProducer,
  Topics,
  topicName,
} from '@flashdrop/events';
import { RedisClient } from '@flashdrop/persistence';
import {
  dedicatedSaleRedis,
  dropDefinition,
  eventually,
  redisNow,
  slotPort,
  soakRounds,
  TEST_SLOT,
  testConfig,
} from '@flashdrop/testing';
import { Consumer, Kafka } from 'kafkajs';
import { Inventory } from '../inventory';
import { dropKeys } from '../keys';
import { StreamRelay } from './stream-relay';

/** A stream id as a comparable pair (milliseconds, sequence). */
function entryOrder(id: string): [number, number] {
  const [ms, seq] = id.split('-').map(Number);
  return [ms, seq];
}

function after(a: string, b: string): boolean {
  const [am, as] = entryOrder(a);
  const [bm, bs] = entryOrder(b);
  return am > bm || (am === bm && as > bs);
}

/**
 * What a consumer that dedupes by a high-water mark per drop and topic (analytics does) makes of
 * the messages in their arrival order: an event above the mark is applied, one at or below it is
 * dropped as a copy. Dropping one that was never applied is a lost event: the relays reordered.
 */
class HighWaterReader {
  private readonly marks = new Map<string, string>();
  readonly applied = new Set<string>();
  readonly lost: string[] = [];
  copies = 0;

  see(topic: string, dropId: string, entryId: string): void {
    const lane = `${topic}|${dropId}`;
    const mark = this.marks.get(lane);
    const event = `${dropId}:${entryId}`;
    if (mark === undefined || after(entryId, mark)) {
      this.marks.set(lane, entryId);
      this.applied.add(event);
    } else if (this.applied.has(event)) {
      this.copies++;
    } else {
      this.lost.push(`${lane} ${entryId} after ${mark}`);
    }
  }
}

/**
 * Two stream relays at once on the same streams: a leader paused past its lease and its
 * successor, made permanent. Against a Redis of the test's own (a cluster of six under npm run
 * test:cluster) and the real Kafka, under topics of this run.
 */
describe('StreamRelay: two relays at once', () => {
  const server = dedicatedSaleRedis(slotPort(6387), slotPort(7700));
  const run = Date.now().toString(36);
  const prefix = `rr${TEST_SLOT}.${run}.`;
  const group = `flashdrop-rr-${TEST_SLOT}-${run}`;
  let redis: RedisClient;
  let inventory: Inventory;
  let kafka: Kafka;
  let consumer: Consumer;
  const reader = new HighWaterReader();
  const connections: RedisClient[] = [];
  const producers: ResettableProducer[] = [];

  beforeAll(async () => {
    server.start();
    await server.flush();
    redis = server.connect();
    inventory = new Inventory(redis);
    kafka = createKafka(`flashdrop-rr-${TEST_SLOT}`, testConfig().kafkaBrokers);
    const admin = kafka.admin();
    await admin.connect();
    await ensureTopics(admin, prefix, {
      partitions: testConfig().KAFKA_PARTITIONS,
      replicationFactor: testConfig().KAFKA_REPLICATION_FACTOR,
    });
    await admin.disconnect();
    consumer = kafka.consumer({ groupId: group });
    await consumer.connect();
    await consumer.subscribe({
      topics: Object.values(Topics).map((t) => topicName(t, prefix)),
      fromBeginning: true,
    });
    await consumer.run({
      eachMessage: async ({ topic, message }) => {
        const id = message.headers?.[EventHeaders.id]?.toString();
        if (!id) return;
        const [dropId, entryId] = id.split(':');
        reader.see(topic, dropId, entryId);
      },
    });
  }, 60_000);

  afterAll(async () => {
    await consumer.disconnect();
    await Promise.all(producers.map((p) => p.reset()));
    for (const c of connections) c.disconnect();
    redis.disconnect();
    server.stop();
    const admin = kafka.admin();
    await admin.connect();
    await admin.deleteGroups([group]).catch(() => undefined);
    await admin
      .deleteTopics({ topics: Object.values(Topics).map((t) => topicName(t, prefix)) })
      .catch(() => undefined);
    await admin.disconnect();
  }, 30_000);

  function startRelay(stop: AbortSignal): Promise<void> {
    const commands = server.connect();
    const streamReader = server.connect({
      enableAutoPipelining: false,
      maxRetriesPerRequest: null,
    });
    connections.push(commands, streamReader);
    const producer = new ResettableProducer(() => createIdempotentProducer(kafka));
    producers.push(producer);
    // Small batches and no linger: the two relays' reads interleave as often as they can.
    const relay = new StreamRelay(commands, streamReader, producer, {
      topicPrefix: prefix,
      batchSize: 5,
      lingerMs: 0,
      hotLingerMs: 0,
      blockMs: 50,
    });
    return relay.run(stop);
  }

  it('never reorder a drop’s events: every event arrives above what came before it, or as a copy', async () => {
    const rounds = soakRounds();
    for (let round = 0; round < rounds; round++) {
      const now = await redisNow(redis);
      const drops = Array.from({ length: 4 }, () => dropDefinition(now));
      for (const d of drops) await inventory.createDrop(d);
      const stop = new AbortController();
      const relays = [startRelay(stop.signal), startRelay(stop.signal)];
      // 4 drops x 400 shares, in waves of 20 per drop, while both relays read and send.
      for (let wave = 0; wave < 20; wave++) {
        await Promise.all(
          drops.flatMap((d) =>
            Array.from({ length: 20 }, (_, i) =>
              inventory.share(d.id, `fan-${wave}-${i}`, ['weibo', 'wechat', 'qq'][i % 3]),
            ),
          ),
        );
      }
      let written = 0;
      for (const d of drops) written += await redis.xlen(dropKeys(d.id).events);
      const ids = new Set(drops.map((d) => d.id));
      const appliedOf = () => [...reader.applied].filter((e) => ids.has(e.split(':')[0])).length;
      const settled = await eventually(
        async () => appliedOf() + reader.lost.length >= written,
        30_000,
      );
      stop.abort();
      await Promise.all(relays);
      expect(reader.lost).toEqual([]);
      expect(settled).toBe(true);
      expect(appliedOf()).toBe(written);
    }
  }, 180_000);
});
