import { Logger } from '@nestjs/common';
import { sleep } from '@flashdrop/persistence';
import { Message, TopicMessages } from 'kafkajs';
import { DeadLetterRecord, EventHeaders, checkEnvelope, encodeEnvelope } from './codec';
import { ResettableProducer } from './kafka';
import { Topics, topicName, topicOf } from './topics';

/** One row of an outbox table, as its owner reads it. */
export interface OutboxRow {
  readonly id: string;
  readonly eventId: string;
  readonly type: string;
  readonly version: number;
  readonly key: string;
  readonly occurredAt: Date;
  readonly data: unknown;
}

/**
 * An outbox table as its owning library exposes it (libs/ledger's `wallet.outbox`): the rows
 * its service wrote in the same transaction as each change, oldest first, and the mark that one
 * was published. The relay never spells the table.
 */
export interface OutboxTable {
  /** What it is called in logs and dead letters, e.g. `wallet.outbox`. */
  readonly name: string;
  /** Up to `limit` unpublished rows, in id order. */
  unpublished(limit: number): Promise<OutboxRow[]>;
  markPublished(ids: readonly string[]): Promise<void>;
}

export interface TableRelayOptions {
  readonly topicPrefix: string;
  readonly batchSize?: number;
  /** Nap between polls when nothing was waiting. */
  readonly idleMs?: number;
}

/**
 * Relays an outbox table to Kafka: the rows the owning service wrote in the same transaction
 * as its change, so an event exists exactly when its change committed.
 *
 * Delivery: at least once. Unpublished rows are read in id order, sent with the idempotent
 * producer (acks = all) keyed by the row's key, and only then marked `published_at`. A crash in
 * between re-sends them with the same id (`event_id`), which consumers dedupe. Every unpublished
 * row is read again each round (not from a high-water mark), so a row whose transaction
 * committed after a later id's was is still found. One owner's rows (one fan) are written under
 * that owner's lock, so their ids follow their commit order and they go out in order.
 */
export class TableRelay {
  private readonly logger = new Logger(TableRelay.name);
  relayed = 0;

  constructor(
    private readonly table: OutboxTable,
    private readonly producer: ResettableProducer,
    private readonly options: TableRelayOptions,
  ) {}

  async run(signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      try {
        const sent = await this.round();
        if (sent === 0) await sleep(this.options.idleMs ?? 100, signal);
      } catch (error) {
        this.logger.warn(`outbox ${this.table.name} round failed: ${String(error)}`);
        await this.producer.reset();
        await sleep(500, signal);
      }
    }
  }

  /** Relays one batch of unpublished rows; answers how many. */
  async round(): Promise<number> {
    const rows = await this.table.unpublished(this.options.batchSize ?? 500);
    if (rows.length === 0) return 0;
    const byTopic = new Map<string, Message[]>();
    for (const row of rows) {
      const decoded = checkEnvelope({
        id: row.eventId,
        type: row.type,
        version: row.version,
        occurredAt: row.occurredAt.toISOString(),
        key: row.key,
        data: row.data,
      });
      const topic = decoded.ok ? topicOf(decoded.value.type) : Topics.deadLetter;
      const message: Message = decoded.ok
        ? {
            key: row.key,
            value: encodeEnvelope(decoded.value),
            headers: {
              [EventHeaders.id]: decoded.value.id,
              [EventHeaders.type]: decoded.value.type,
              [EventHeaders.version]: String(decoded.value.version),
            },
          }
        : {
            key: row.key,
            value: JSON.stringify({
              reason: decoded.reason,
              refusedBy: 'table-relay',
              source: `${this.table.name}/${row.id}`,
              key: row.key,
              value: JSON.stringify(row),
              at: new Date().toISOString(),
            } satisfies DeadLetterRecord),
          };
      const name = topicName(topic, this.options.topicPrefix);
      byTopic.set(name, [...(byTopic.get(name) ?? []), message]);
    }
    const topicMessages: TopicMessages[] = [...byTopic].map(([topic, messages]) => ({
      topic,
      messages,
    }));
    await (await this.producer.get()).sendBatch({ topicMessages, acks: -1 });
    // Marked only after Kafka acknowledged every message of the batch.
    await this.table.markPublished(rows.map((r) => r.id));
    this.relayed += rows.length;
    return rows.length;
  }
}
