import { Logger } from '@nestjs/common';
import { Message, TopicMessages } from 'kafkajs';
import { ResettableProducer } from '../kafka';
import { DeadLetterRecord, EventHeaders, checkEnvelope, encodeEnvelope } from '../codec';
import { Topics, topicName, topicOf } from '../topics';
import { sleep } from './stream-relay';

/** Runs one SQL statement with positional parameters; answers the rows (any SQL client). */
export type SqlQuery = (sql: string, params: unknown[]) => Promise<unknown[]>;

export interface TableRelayOptions {
  /** Schema-qualified table, e.g. `wallet.outbox` (trusted: from code, never from input). */
  readonly table: string;
  readonly topicPrefix: string;
  readonly batchSize?: number;
  /** Nap between polls when nothing was waiting. */
  readonly idleMs?: number;
}

interface OutboxRow {
  id: string;
  event_id: string;
  type: string;
  version: number;
  key: string;
  occurred_at: Date | string;
  data: unknown;
}

/**
 * Relays a PostgreSQL outbox table (`id bigserial, event_id uuid, type, version, key,
 * occurred_at, data jsonb, published_at`) to Kafka: the rows the owning service wrote in the same
 * transaction as its change, so an event exists exactly when its change committed.
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
    private readonly query: SqlQuery,
    private readonly producer: ResettableProducer,
    private readonly options: TableRelayOptions,
  ) {}

  async run(signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      try {
        const sent = await this.round();
        if (sent === 0) await sleep(this.options.idleMs ?? 100, signal);
      } catch (error) {
        this.logger.warn(`outbox ${this.options.table} round failed: ${String(error)}`);
        await this.producer.reset();
        await sleep(500, signal);
      }
    }
  }

  /** Relays one batch of unpublished rows; answers how many. */
  async round(): Promise<number> {
    const rows = (await this.query(
      `SELECT id, event_id, type, version, key, occurred_at, data FROM ${this.options.table}
       WHERE published_at IS NULL ORDER BY id LIMIT $1`,
      [this.options.batchSize ?? 500],
    )) as OutboxRow[];
    if (rows.length === 0) return 0;
    const byTopic = new Map<string, Message[]>();
    for (const row of rows) {
      const decoded = checkEnvelope({
        id: row.event_id,
        type: row.type,
        version: row.version,
        occurredAt: new Date(row.occurred_at).toISOString(),
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
              source: `${this.options.table}/${row.id}`,
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
    await this.query(
      `UPDATE ${this.options.table} SET published_at = now() WHERE id = ANY($1::bigint[])`,
      [rows.map((r) => r.id)],
    );
    this.relayed += rows.length;
    return rows.length;
  }
}
