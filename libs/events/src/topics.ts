/**
 * Every Kafka topic Flashdrop uses, in one place. Topics are created by the project
 * (`ensureTopics`), never by broker auto-creation. One drop's events share a key (the drop id),
 * so they stay in order on one partition.
 */
export const Topics = {
  drops: 'flashdrop.drops.v1',
  sales: 'flashdrop.sales.v1',
  wallet: 'flashdrop.wallet.v1',
  deadLetter: 'flashdrop.dead-letter.v1',
} as const;

export type Topic = (typeof Topics)[keyof typeof Topics];

export const TOPIC_PARTITIONS = 6;
