import { Admin, Kafka, logLevel } from 'kafkajs';
import { TOPIC_PARTITIONS, Topics } from './topics';

export function createKafka(clientId: string, brokers: string[]): Kafka {
  return new Kafka({
    clientId,
    brokers,
    logLevel: logLevel.WARN,
    connectionTimeout: 3000,
    requestTimeout: 10000,
    retry: { initialRetryTime: 200, retries: 8 },
  });
}

/** Creates every topic of `Topics` that is missing; safe to run at every start. */
export async function ensureTopics(admin: Admin): Promise<string[]> {
  const existing = new Set(await admin.listTopics());
  const missing = Object.values(Topics).filter((t) => !existing.has(t));
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
