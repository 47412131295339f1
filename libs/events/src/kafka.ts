import { Logger } from '@nestjs/common';
import {
  Admin,
  Consumer,
  EachBatchPayload,
  Kafka,
  logCreator,
  logLevel,
  Partitioners,
  Producer,
} from 'kafkajs';
import { Topic, Topics, topicName } from './topics';

/** kafkajs's lines go into the service's one log (pino's JSON), with their namespace and fields. */
const kafkaLogs: logCreator = () => {
  const logger = new Logger('Kafka');
  return ({ namespace, level, log }) => {
    const { message, timestamp: _timestamp, logger: _kafkajs, ...fields } = log;
    const line = { namespace, ...fields };
    if (level === logLevel.ERROR) logger.error(line, message);
    else if (level === logLevel.WARN) logger.warn(line, message);
    else if (level === logLevel.INFO) logger.log(line, message);
    else logger.debug(line, message);
  };
};

export function createKafka(clientId: string, brokers: string[]): Kafka {
  return new Kafka({
    clientId,
    brokers,
    logLevel: logLevel.WARN,
    logCreator: kafkaLogs,
    connectionTimeout: 3000,
    requestTimeout: 10000,
    retry: { initialRetryTime: 200, retries: 8 },
  });
}

/**
 * A consumer group member as every service's event consumer runs one (analytics, the
 * notifier): a dead member is noticed within 10 s; the broker answers a fetch as soon as one
 * byte is there, so `maxWaitTimeInMs` only bounds idle polls; a broker away for a while is
 * retried for about a minute and a half before the member gives up.
 */
export function createEventsConsumer(kafka: Kafka, groupId: string): Consumer {
  return kafka.consumer({
    groupId,
    sessionTimeout: 10_000,
    heartbeatInterval: 1_000,
    maxWaitTimeInMs: 250,
    retry: { retries: 20, initialRetryTime: 300, maxRetryTime: 5_000 },
  });
}

/**
 * Connects `consumer`, subscribes it to `topics` (under `prefix`) from the beginning, and runs
 * `eachBatch` on every batch. What the handler must keep true: it resolves each offset itself
 * (`resolveOffset`) only once the message's effect is stored, since offsets are committed
 * every second from what was resolved; a crash replays at most that second, which the
 * handlers dedupe by event id. Partitions are independent (order matters only within one):
 * three at a time, so a busy drop's big batch never holds up a quiet drop's change.
 */
export async function consumeEvents(
  consumer: Consumer,
  topics: readonly Topic[],
  prefix: string,
  eachBatch: (payload: EachBatchPayload) => Promise<void>,
): Promise<void> {
  await consumer.connect();
  await consumer.subscribe({
    topics: topics.map((t) => topicName(t, prefix)),
    fromBeginning: true,
  });
  await consumer.run({
    eachBatchAutoResolve: false,
    autoCommit: true,
    autoCommitInterval: 1_000,
    partitionsConsumedConcurrently: 3,
    eachBatch,
  });
}

/** How the project creates its topics: KAFKA_PARTITIONS, KAFKA_REPLICATION_FACTOR. */
export interface TopicLayout {
  readonly partitions: number;
  readonly replicationFactor: number;
}

/** What `ensureTopics` did: topics it created, and existing ones whose count differs. */
export interface TopicsReport {
  readonly created: string[];
  /** An existing topic keeps its partitions (see FlashdropConfig.KAFKA_PARTITIONS). */
  readonly mismatched: { topic: string; partitions: number }[];
}

/**
 * Creates every topic of `Topics` (under `prefix`) that is missing, with the layout's partition
 * count and replication; safe to run at every start. Existing topics are left as they are:
 * adding partitions would move some drops (keyed by drop id) to another partition while their
 * older events may still be unread on the old one, so a consumer could see a drop's events out
 * of order. They are reported instead, for an operator to change when no drop is on sale.
 */
export async function ensureTopics(
  admin: Admin,
  prefix: string,
  layout: TopicLayout,
  patienceMs = ENSURE_TOPICS_PATIENCE_MS,
): Promise<TopicsReport> {
  const until = Date.now() + patienceMs;
  const created = new Set<string>();
  for (;;) {
    try {
      const report = await ensureTopicsOnce(admin, prefix, layout, created);
      return { ...report, created: [...created] };
    } catch (error) {
      // A broker that has just started, or is busy creating other topics, can answer the
      // metadata of a topic it has just created with "This server does not host this
      // topic-partition" past kafkajs' own retries (seen in CI's clean clone, three test stacks
      // migrating at once). Asking again is safe: topics that now exist are not created again.
      if (!retriableKafkaError(error) || Date.now() >= until) throw error;
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
  }
}

/** How long `ensureTopics` keeps asking a broker that is not ready yet. */
const ENSURE_TOPICS_PATIENCE_MS = 60_000;

/** A kafkajs error worth asking again: retriable itself, or retries of one exhausted. */
function retriableKafkaError(error: unknown): boolean {
  const e = error as { retriable?: boolean; name?: string; cause?: { retriable?: boolean } };
  return (
    e?.retriable === true ||
    e?.cause?.retriable === true ||
    e?.name === 'KafkaJSNumberOfRetriesExceeded'
  );
}

async function ensureTopicsOnce(
  admin: Admin,
  prefix: string,
  layout: TopicLayout,
  created: Set<string>,
): Promise<TopicsReport> {
  const names = Object.values(Topics).map((t) => topicName(t, prefix));
  const existing = new Set(await admin.listTopics());
  const missing = names.filter((t) => !existing.has(t));
  for (const topic of missing) created.add(topic);
  if (missing.length > 0) {
    await admin.createTopics({
      waitForLeaders: true,
      topics: missing.map((topic) => ({
        topic,
        numPartitions: layout.partitions,
        replicationFactor: layout.replicationFactor,
      })),
    });
  }
  const present = names.filter((t) => existing.has(t));
  const metadata =
    present.length > 0 ? await admin.fetchTopicMetadata({ topics: present }) : undefined;
  const mismatched = (metadata?.topics ?? [])
    .filter((t) => t.partitions.length !== layout.partitions)
    .map((t) => ({ topic: t.name, partitions: t.partitions.length }));
  return { created: missing, mismatched };
}

/**
 * The producer every outbox relay uses: idempotent (the broker drops a retried batch it already
 * wrote, so a retry inside one send never duplicates or reorders), acks from all in-sync
 * replicas, one request in flight (order per partition), and retries without end, as
 * idempotence requires: a relay whose send outlives its lease only re-sends entries the next
 * leader sends again, which consumers dedupe by event id.
 */
export function createIdempotentProducer(kafka: Kafka): Producer {
  return kafka.producer({
    idempotent: true,
    maxInFlightRequests: 1,
    allowAutoTopicCreation: false,
    createPartitioner: Partitioners.DefaultPartitioner,
    retry: { retries: Number.MAX_SAFE_INTEGER, initialRetryTime: 200, maxRetryTime: 2000 },
  });
}

/**
 * A relay's producer that can be thrown away: after a send fails with an error the producer
 * does not retry by itself (a fenced or out-of-sequence idempotent producer, say), the relay
 * resets it and the next send connects a fresh one (a new producer id). Re-sent entries keep
 * their event ids, so consumers still count them once.
 */
export class ResettableProducer {
  private current?: Promise<Producer>;

  constructor(private readonly create: () => Producer) {}

  get(): Promise<Producer> {
    this.current ??= (async () => {
      const producer = this.create();
      try {
        await producer.connect();
      } catch (error) {
        this.current = undefined;
        throw error;
      }
      return producer;
    })();
    return this.current;
  }

  async reset(): Promise<void> {
    const old = this.current;
    this.current = undefined;
    await old?.then((p) => p.disconnect()).catch(() => undefined);
  }
}
