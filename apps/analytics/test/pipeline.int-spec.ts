import {
  createIdempotentProducer,
  createKafka,
  ensureTopics,
  ResettableProducer,
  Topics,
  topicName,
} from '@flashdrop/events';
import {
  contractFields,
  DedicatedRedis,
  eventually,
  readTruth,
  slotPort,
  TEST_SLOT,
  testConfig,
} from '@flashdrop/testing';
import { Inventory, OutboxStreamGroups, OutboxTrimmer, StreamRelay } from '@flashdrop/inventory';
import Redis from 'ioredis';
import { Kafka } from 'kafkajs';
import { EventsConsumer } from '../src/consumer/events.consumer';
import { StatsStore } from '../src/stats/stats-store';
import { createOpenDrop, mixedBurst } from './sale-traffic';

/**
 * The event pipeline against the real Kafka and a Redis of the test's own: outbox streams ->
 * relay (idempotent producer) -> topics -> analytics consumer -> stats, compared with the sale's
 * stored truth. Topics live under a prefix of this test run (and slot), so nothing else reads
 * them and a consumer reading from the beginning sees this run's events only; they are deleted
 * at the end, with the run's consumer groups.
 */
describe('event pipeline: outbox streams -> Kafka -> analytics', () => {
  const redisServer = new DedicatedRedis(slotPort(6395));
  const run = Date.now().toString(36);
  const prefix = `it${TEST_SLOT}.${run}.`;
  const groups = ['analytics', 'replay', 'dlq'].map((g) => `flashdrop-it-${TEST_SLOT}-${g}-${run}`);
  const [analyticsGroup, replayGroup, dlqGroup] = groups;
  let redis: Redis;
  let reader: Redis;
  let kafka: Kafka;
  let producer: ResettableProducer;
  let relay: StreamRelay;
  let consumer: EventsConsumer;
  let store: StatsStore;
  let inventory: Inventory;
  const stop = new AbortController();
  let relaying: Promise<void>;
  /** What the relay reported of each batch Kafka acknowledged: entries, the oldest one's age. */
  const batches: [entries: number, oldestAgeMs: number][] = [];

  beforeAll(async () => {
    redisServer.start();
    redis = new Redis(redisServer.url);
    reader = new Redis(redisServer.url, { maxRetriesPerRequest: null });
    kafka = createKafka(`flashdrop-it-${TEST_SLOT}`, testConfig().kafkaBrokers);
    const admin = kafka.admin();
    await admin.connect();
    await ensureTopics(admin, prefix, {
      partitions: testConfig().KAFKA_PARTITIONS,
      replicationFactor: testConfig().KAFKA_REPLICATION_FACTOR,
    });
    await admin.disconnect();
    producer = new ResettableProducer(() => createIdempotentProducer(kafka));
    relay = new StreamRelay(redis, reader, producer, {
      topicPrefix: prefix,
      blockMs: 100,
      onBatch: (entries, oldestAgeMs) => batches.push([entries, oldestAgeMs]),
    });
    relaying = relay.run(stop.signal);
    store = new StatsStore(redis);
    inventory = new Inventory(redis);
    consumer = new EventsConsumer(kafka, store, {
      groupId: analyticsGroup,
      topicPrefix: prefix,
    });
    await consumer.start();
  }, 60_000);

  afterAll(async () => {
    stop.abort();
    await relaying;
    await consumer.stop();
    await producer.reset();
    reader.disconnect();
    redis.disconnect();
    redisServer.stop();
    // The run's topics and groups go with it: the shared broker does not collect them.
    const admin = kafka.admin();
    await admin.connect();
    await admin.deleteGroups(groups).catch(() => undefined);
    await admin
      .deleteTopics({ topics: Object.values(Topics).map((t) => topicName(t, prefix)) })
      .catch(() => undefined);
    await admin.disconnect();
  }, 30_000);

  async function converged(dropId: string, timeoutMs = 20_000): Promise<boolean> {
    return eventually(async () => {
      const [stats, truth] = await Promise.all([store.read(dropId), readTruth(inventory, dropId)]);
      return JSON.stringify(contractFields({ ...stats })) === JSON.stringify(truth);
    }, timeoutMs);
  }

  it('after a burst of mixed traffic on several drops, every drop’s stats equal the stored truth', async () => {
    const drops: string[] = [];
    for (let i = 0; i < 3; i++)
      drops.push(await createOpenDrop(inventory, { quantity: 40 + i * 30 }));
    // Three drops at once, 150 fans each: reservations, shares, grabs, payments, expiries.
    await Promise.all(drops.map((d) => mixedBurst(inventory, d, 150)));

    for (const d of drops) expect(await converged(d)).toBe(true);
    const stats = await store.read(drops[0]);
    const truth = await readTruth(inventory, drops[0]);
    expect(contractFields({ ...stats })).toEqual(truth);
    // The burst really was mixed: every kind of change showed up.
    expect(stats.paid).toBeGreaterThan(0);
    expect(stats.expired).toBeGreaterThan(0);
    expect(stats.cancelled).toBeGreaterThan(0);
    expect(stats.rejections.SOLD_OUT).toBeGreaterThan(0);
    expect(stats.rejections.NOT_RESERVED).toBeGreaterThan(0);
    expect(stats.soldOutAt).not.toBeNull();
    expect(stats.sharesByChannel).toEqual({ weibo: 50, wechat: 50, qq: 50 });
    expect(stats.topReferrers[0]).toEqual({ referrerId: `${drops[0]}-f0`, referrals: 39 });
    expect(stats.sellThrough.reduce((n, p) => n + p.grabbed, 0)).toBe(truth.quantity);
    // The relay reported every batch it sent (the bench's stage breakdown reads these).
    expect(batches.reduce((n, [entries]) => n + entries, 0)).toBe(relay.relayed);
    expect(batches.every(([entries, age]) => entries > 0 && age >= 0)).toBe(true);
  }, 60_000);

  it('a relay that re-sends everything (acknowledgements lost) counts nothing twice', async () => {
    const dropId = await createOpenDrop(inventory, { quantity: 30 });
    await mixedBurst(inventory, dropId, 60);
    expect(await converged(dropId)).toBe(true);
    const before = await store.read(dropId);
    const appliedBefore = consumer.applied;
    // The consumer's counters run over the whole file: what this case adds is counted from here.
    const duplicatesBefore = consumer.duplicates;

    // As if every XACK had been lost: the group forgets what it delivered, the relay re-sends
    // every entry of the stream to Kafka, and the consumer sees each event a second time.
    await redis.xgroup('SETID', `{d:${dropId}}:events`, OutboxStreamGroups.kafkaRelay, '0');
    const entries = await redis.xlen(`{d:${dropId}}:events`);
    expect(entries).toBeGreaterThan(0);
    expect(
      await eventually(async () => consumer.duplicates - duplicatesBefore >= entries, 20_000),
    ).toBe(true);

    const after = await store.read(dropId);
    expect(contractFields({ ...after })).toEqual(contractFields({ ...before }));
    expect(consumer.applied).toBe(appliedBefore);
    expect(await converged(dropId)).toBe(true);
  }, 60_000);

  it('a consumer that applied batches but never committed an offset counts nothing twice', async () => {
    const dropId = await createOpenDrop(inventory, { quantity: 30 });
    await mixedBurst(inventory, dropId, 60);
    expect(await converged(dropId)).toBe(true);
    const before = await store.read(dropId);
    const seen = consumer.applied + consumer.duplicates;

    // The worst crash before a commit: a consumer whose group has no offset at all re-reads
    // every batch from the start of the topics and applies it again into the same store.
    const replay = new EventsConsumer(kafka, store, {
      groupId: replayGroup,
      topicPrefix: prefix,
    });
    await replay.start();
    try {
      expect(await eventually(async () => replay.duplicates >= seen, 30_000)).toBe(true);
      const after = await store.read(dropId);
      expect(contractFields({ ...after })).toEqual(contractFields({ ...before }));
      expect(await converged(dropId)).toBe(true);
      // Every event of this run's topics came again, and not one was applied a second time.
      expect(replay.applied).toBe(0);
    } finally {
      await replay.stop();
    }
  }, 60_000);

  it('a poison entry goes to the dead-letter topic and the drop’s later events still count', async () => {
    const dropId = await createOpenDrop(inventory, { quantity: 10 });
    await redis.xadd(
      `{d:${dropId}}:events`,
      '*',
      'type',
      'grab.accepted',
      'v',
      '1',
      'at',
      String(Date.now()),
      'data',
      '{"dropId":"x"',
    );
    await redis.xadd(
      `{d:${dropId}}:events`,
      '*',
      'type',
      'no.such',
      'v',
      '1',
      'at',
      String(Date.now()),
      'data',
      '{}',
    );
    await inventory.share(dropId, 'fan-1', 'weibo');

    const seen: string[] = [];
    const dlq = kafka.consumer({ groupId: dlqGroup });
    await dlq.connect();
    await dlq.subscribe({ topic: topicName(Topics.deadLetter, prefix), fromBeginning: true });
    await dlq.run({
      eachMessage: async ({ message }) => {
        const value = message.value?.toString() ?? '';
        if (value.includes(dropId)) seen.push(value);
      },
    });
    try {
      expect(await eventually(async () => seen.length >= 2, 20_000)).toBe(true);
      expect(seen.join('\n')).toContain('entry `data` is not JSON');
      expect(seen.join('\n')).toContain('unknown type no.such');
      expect(await converged(dropId)).toBe(true);
      expect((await store.read(dropId)).shares).toBe(1);
    } finally {
      await dlq.disconnect();
    }
  }, 60_000);

  it('trims only entries every consumer group acknowledged', async () => {
    const dropId = await createOpenDrop(inventory, { quantity: 5 });
    const key = `{d:${dropId}}:events`;
    for (let i = 0; i < 20; i++) await inventory.share(dropId, `fan-${i}`, 'qq');
    expect(await converged(dropId)).toBe(true);
    const trimmer = new OutboxTrimmer(redis);

    // The relay acknowledged all 21 entries, order persistence nothing yet: nothing may go.
    expect(await trimmer.trim(key)).toBe(0);
    expect(await redis.xlen(key)).toBe(21);

    // Order persistence reads 10 and acknowledges 6 of them: exactly those 6 may go.
    const group = OutboxStreamGroups.orderPersistence;
    const read = (await redis.xreadgroup(
      'GROUP',
      group,
      'c1',
      'COUNT',
      10,
      'STREAMS',
      key,
      '>',
    )) as [string, [string, string[]][]][];
    const ids = read[0][1].map(([id]) => id);
    await redis.xack(key, group, ...ids.slice(0, 6));
    expect(await trimmer.trim(key)).toBe(6);
    expect(await redis.xlen(key)).toBe(15);

    // It reads and acknowledges the rest: everything may go.
    const rest = (await redis.xreadgroup(
      'GROUP',
      group,
      'c1',
      'COUNT',
      100,
      'STREAMS',
      key,
      '>',
    )) as [string, [string, string[]][]][];
    await redis.xack(key, group, ...ids.slice(6), ...rest[0][1].map(([id]) => id));
    expect(await trimmer.trim(key)).toBe(15);
    expect(await redis.xlen(key)).toBe(0);
  }, 60_000);
});
