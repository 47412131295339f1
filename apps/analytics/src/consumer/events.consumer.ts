/**
 * The analytics consumer: every drop, sale and wallet event into the per-drop statistics.
 *
 * Delivery guarantee: at least once from Kafka (a batch's offsets are committed only after its
 * events were applied), made exactly once in effect by the store: `apply_event` checks and
 * records each event's idempotency key and changes the counters in one atomic Redis script per
 * drop and chunk of the batch (up to CHUNK events), so a replayed batch, or an event that comes
 * twice inside one batch, counts once.
 * Partition key: the drop id (wallet events: the fan id), so one drop's events arrive in order
 * on one partition of each topic.
 * Idempotency key: the event id. Stream events (`<dropId>:<entry id>`) are deduped by a
 * high-water mark per drop and topic (the relay sends them in entry-id order, so anything at or
 * below the mark was applied); other events (uuid ids) by a seen-key kept for Kafka's retention.
 * Poison messages (not JSON, unknown type or version, wrong shape) go to the dead-letter topic
 * with the reason, and the partition moves on.
 */
import { Logger } from '@nestjs/common';
import {
  DeadLetterRecord,
  Topic,
  Topics,
  consumeEvents,
  createEventsConsumer,
  createIdempotentProducer,
  decodeEnvelope,
  topicFromName,
  topicName,
} from '@flashdrop/events';
import { Consumer, EachBatchPayload, Kafka, KafkaMessage, Producer } from 'kafkajs';
import { StatsStore, TopicEvent } from '../stats/stats-store';

export interface EventsConsumerOptions {
  readonly groupId: string;
  readonly topicPrefix: string;
  /** Called with what each batch did (for the service's Prometheus counters). */
  readonly onCounted?: (applied: number, duplicates: number, deadLettered: number) => void;
}

/** Events applied per store call (one script per drop); offsets are resolved after each. */
const CHUNK = 500;
/** The topics this consumer reads. */
const CONSUMED: readonly Topic[] = [Topics.drops, Topics.sales, Topics.wallet];

export class EventsConsumer {
  private readonly logger = new Logger(EventsConsumer.name);
  private consumer?: Consumer;
  private deadLetters?: Producer;
  applied = 0;
  duplicates = 0;
  deadLettered = 0;

  constructor(
    private readonly kafka: Kafka,
    private readonly store: StatsStore,
    private readonly options: EventsConsumerOptions,
  ) {}

  async start(): Promise<void> {
    const deadLetters = createIdempotentProducer(this.kafka);
    await deadLetters.connect();
    this.deadLetters = deadLetters;
    const consumer = createEventsConsumer(this.kafka, this.options.groupId);
    this.consumer = consumer;
    await consumeEvents(consumer, CONSUMED, this.options.topicPrefix, (payload) =>
      this.onBatch(payload),
    );
  }

  async stop(): Promise<void> {
    await this.consumer?.disconnect().catch(() => undefined);
    await this.deadLetters?.disconnect().catch(() => undefined);
  }

  private async onBatch(payload: EachBatchPayload): Promise<void> {
    const { batch, resolveOffset, heartbeat, commitOffsetsIfNecessary, isRunning, isStale } =
      payload;
    const topic = topicFromName(batch.topic, this.options.topicPrefix);
    for (let i = 0; i < batch.messages.length; i += CHUNK) {
      if (!isRunning() || isStale()) break;
      const messages = batch.messages.slice(i, i + CHUNK);
      const changed = new Set<string>();
      // The chunk's events go to the store in one call (one script per drop); a poison message
      // first flushes what came before it, so the partition's order is kept around it.
      let events: TopicEvent[] = [];
      for (const message of messages) {
        const decoded = topic ? decodeEnvelope(message.value) : undefined;
        if (!decoded?.ok || !topic) {
          await this.applyEvents(events);
          events = [];
          const reason = decoded && !decoded.ok ? decoded.reason : undefined;
          await this.deadLetter(batch.topic, batch.partition, message, reason);
          continue;
        }
        const dropId = (decoded.value.data as { dropId?: string }).dropId;
        if (dropId) changed.add(dropId);
        events.push({ event: decoded.value, topic });
      }
      await this.applyEvents(events);
      // Only now, with every event of the chunk applied, may its offsets be committed.
      resolveOffset(messages[messages.length - 1].offset);
      // Announced per chunk, not per batch: a big batch must not hold back the live frames.
      await this.store.announceChanged(changed);
      await commitOffsetsIfNecessary();
      await heartbeat();
    }
  }

  private async applyEvents(events: readonly TopicEvent[]): Promise<void> {
    if (events.length === 0) return;
    const { applied, duplicates } = await this.store.applyBatch(events);
    this.applied += applied;
    this.duplicates += duplicates;
    this.options.onCounted?.(applied, duplicates, 0);
  }

  private async deadLetter(
    topic: string,
    partition: number,
    message: KafkaMessage,
    reason = 'not a topic this consumer reads',
  ): Promise<void> {
    const record: DeadLetterRecord = {
      reason,
      refusedBy: this.options.groupId,
      source: `${topic}/${partition}/${message.offset}`,
      key: message.key?.toString('utf8') ?? null,
      value: message.value?.toString('utf8') ?? null,
      at: new Date().toISOString(),
    };
    this.logger.warn(`dead-lettered ${record.source}: ${reason}`);
    // Sent (and acknowledged) before the offset moves past it: a poison message is never lost.
    await this.deadLetters?.send({
      topic: topicName(Topics.deadLetter, this.options.topicPrefix),
      acks: -1,
      messages: [{ key: record.key, value: JSON.stringify(record) }],
    });
    this.deadLettered++;
    this.options.onCounted?.(0, 0, 1);
  }
}
