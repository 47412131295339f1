import type { EventType } from './event-catalog';

/**
 * Every Kafka topic Flashdrop uses, in one place. Topics are created by the project
 * (`ensureTopics`), never by broker auto-creation. One drop's events share a key (the drop id),
 * so they stay in order on one partition.
 *
 * A stack may put its topics under a prefix (env KAFKA_TOPIC_PREFIX, see `topicName`): the test
 * stacks of several slots share one broker, and each must read only its own events.
 */
export const Topics = {
  drops: 'flashdrop.drops.v1',
  sales: 'flashdrop.sales.v1',
  wallet: 'flashdrop.wallet.v1',
  /** Messages a consumer could not read (bad JSON, unknown type, wrong shape), with the reason. */
  deadLetter: 'flashdrop.dead-letter.v1',
} as const;

export type Topic = (typeof Topics)[keyof typeof Topics];

/** The topic an event type travels on: `drop.*` -> drops, `wallet.*` -> wallet, else sales. */
export function topicOf(type: EventType): Topic {
  if (type.startsWith('drop.')) return Topics.drops;
  if (type.startsWith('wallet.')) return Topics.wallet;
  return Topics.sales;
}

/** The broker-side name of a topic under a stack's prefix ('' in production and dev). */
export function topicName(topic: Topic, prefix: string): string {
  return `${prefix}${topic}`;
}

/** The reverse of `topicName`, for a consumer that sees prefixed names in its batches. */
export function topicFromName(name: string, prefix: string): Topic | undefined {
  const bare = name.startsWith(prefix) ? name.slice(prefix.length) : undefined;
  return (Object.values(Topics) as string[]).includes(bare ?? '') ? (bare as Topic) : undefined;
}
