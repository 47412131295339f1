import { Logger } from '@nestjs/common';
import { Admin, Kafka, logCreator, logLevel, Partitioners, Producer } from 'kafkajs';
import { TOPIC_PARTITIONS, Topics, topicName } from './topics';

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

/** Creates every topic of `Topics` (under `prefix`) that is missing; safe to run at every start. */
export async function ensureTopics(admin: Admin, prefix = ''): Promise<string[]> {
  const existing = new Set(await admin.listTopics());
  const missing = Object.values(Topics)
    .map((t) => topicName(t, prefix))
    .filter((t) => !existing.has(t));
  if (missing.length > 0) {
    await admin.createTopics({
      waitForLeaders: true,
      topics: missing.map((topic) => ({
        topic,
        numPartitions: TOPIC_PARTITIONS,
        replicationFactor: 1,
      })),
    });
  }
  return missing;
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
