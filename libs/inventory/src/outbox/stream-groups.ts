import type { RedisClient } from '@flashdrop/persistence';

/**
 * The consumer groups that read the drops' outbox streams. An entry may be trimmed only once
 * every one of them has acknowledged it, so the relay creates each group (at the stream's start)
 * the first time it sees a drop: a reader that starts later still finds every entry.
 * Add a group here before reading the streams with it.
 */
export const OutboxStreamGroups = {
  /** apps/worker StreamRelay: outbox -> Kafka. */
  kafkaRelay: 'kafka-relay',
  /** apps/worker order persistence: orders -> PostgreSQL (the grab work). */
  orderPersistence: 'order-persistence',
} as const;

export type OutboxStreamGroup = (typeof OutboxStreamGroups)[keyof typeof OutboxStreamGroups];

/** Creates a group on a stream at its start; an existing group is left alone. */
export async function ensureGroup(redis: RedisClient, key: string, group: string): Promise<void> {
  try {
    await redis.xgroup('CREATE', key, group, '0', 'MKSTREAM');
  } catch (error) {
    if (!String(error).includes('BUSYGROUP')) throw error;
  }
}

/** Creates every registered group on a stream (see OutboxStreamGroups). */
export async function ensureGroups(redis: RedisClient, key: string): Promise<void> {
  for (const group of Object.values(OutboxStreamGroups)) await ensureGroup(redis, key, group);
}
