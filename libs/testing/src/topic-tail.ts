import { createKafka, Topic, topicName } from '@flashdrop/events';
import { Admin, Consumer, Kafka, KafkaJSError } from 'kafkajs';
import { TEST_SLOT, testConfig } from './test-env';
import { uniqueId } from './tokens';

/** One Kafka message as a test reads it. */
export interface TailedMessage {
  readonly partition: number;
  readonly offset: string;
  readonly key: string;
  readonly value: string;
  readonly headers: Readonly<Record<string, string>>;
}

/**
 * Each partition's high-water mark of `topic`, asking again while the broker answers with a
 * retriable error. A broker that has just started (every CI run's does) names a partition's
 * leader in its metadata a moment before it serves that partition, and answers ListOffsets with
 * "This server is not the leader for that topic-partition" meanwhile; kafkajs' admin retries only
 * an unknown topic here, so a test's first read of a fresh topic failed its set-up.
 */
export async function fetchTopicHighs(
  admin: Admin,
  topic: string,
  patienceMs = 15_000,
): Promise<{ partition: number; offset: string; high: string }[]> {
  const giveUpAt = Date.now() + patienceMs;
  for (;;) {
    try {
      return await admin.fetchTopicOffsets(topic);
    } catch (error) {
      const retriable = error instanceof KafkaJSError && error.retriable;
      if (!retriable || Date.now() > giveUpAt) throw error;
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }
}

/**
 * Every message written to a topic from the moment `start()` is called (or from the topic's
 * beginning), read by a consumer group of its own that is deleted on `stop()`. For tests that
 * must see the events themselves (a phase change announced, an outbox row relayed) rather than
 * a field they leave behind. Each Kafka message is kept once, however often a rebalance or a
 * seek delivers it again: `messages` are distinct (partition, offset) pairs.
 */
export class TopicTail {
  readonly messages: TailedMessage[] = [];
  private readonly seen = new Set<string>();
  private readonly groupId = uniqueId('flashdrop-test-tail');
  private consumer?: Consumer;

  constructor(
    private readonly kafka: Kafka,
    readonly topic: string,
  ) {}

  async start(from: 'now' | 'beginning' = 'now'): Promise<void> {
    const startAt = new Map<number, bigint>();
    if (from === 'now') {
      const admin = this.kafka.admin();
      await admin.connect();
      try {
        for (const p of await fetchTopicHighs(admin, this.topic)) {
          startAt.set(p.partition, BigInt(p.high));
        }
      } finally {
        await admin.disconnect();
      }
    }
    this.consumer = this.kafka.consumer({ groupId: this.groupId });
    await this.consumer.connect();
    await this.consumer.subscribe({ topic: this.topic, fromBeginning: from === 'beginning' });
    await this.consumer.run({
      eachMessage: async ({ partition, message }) => {
        if (BigInt(message.offset) < (startAt.get(partition) ?? 0n)) return;
        const id = `${partition}:${message.offset}`;
        if (this.seen.has(id)) return;
        this.seen.add(id);
        const headers: Record<string, string> = {};
        for (const [k, v] of Object.entries(message.headers ?? {})) headers[k] = String(v);
        this.messages.push({
          partition,
          offset: message.offset,
          key: message.key?.toString() ?? '',
          value: message.value?.toString() ?? '',
          headers,
        });
      },
    });
    // A new group starts at the end of each partition; go back to where `start` was called,
    // so a message written while the group was joining is not missed.
    for (const [partition, offset] of startAt) {
      this.consumer.seek({ topic: this.topic, partition, offset: String(offset) });
    }
  }

  /** The messages' values parsed as JSON (the events' envelopes). */
  values<T = unknown>(): T[] {
    return this.messages.map((m) => JSON.parse(m.value) as T);
  }

  async stop(): Promise<void> {
    await this.consumer?.disconnect();
    const admin = this.kafka.admin();
    await admin.connect();
    await admin.deleteGroups([this.groupId]).catch(() => undefined);
    await admin.disconnect();
  }
}

/** An event envelope as the relays put it on Kafka (libs/events). */
export interface TailedEvent {
  readonly id: string;
  readonly type: string;
  readonly occurredAt: string;
  readonly key: string;
  readonly data: Record<string, unknown>;
}

/** A tail of one of the running test stack's topics (its KAFKA_TOPIC_PREFIX, its broker). */
export function stackTopicTail(topic: Topic): TopicTail {
  const config = testConfig();
  const kafka = createKafka(`flashdrop-test-tail-${TEST_SLOT}`, config.kafkaBrokers);
  return new TopicTail(kafka, topicName(topic, config.KAFKA_TOPIC_PREFIX));
}
