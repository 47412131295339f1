/**
 * Every Flashdrop event, whatever its source, travels in this envelope: an id that stays the
 * same however often the event is relayed (consumers dedupe on it), a type, a schema version,
 * the time it happened (the sale clock: Redis TIME or PostgreSQL now()), and the key that keeps
 * one drop's events in order on one Kafka partition.
 */
export interface EventEnvelope<TType extends string = string, TData = unknown> {
  readonly id: string;
  readonly type: TType;
  readonly version: number;
  /** ISO 8601, UTC. */
  readonly occurredAt: string;
  /** The Kafka message key: the drop id for drop-scoped events, the fan id for wallet events. */
  readonly key: string;
  readonly data: TData;
}

/**
 * How the Lua scripts write an event into a drop's Redis stream (the outbox), field by field.
 * The relay turns an entry into an EventEnvelope whose id is `<dropId>:<stream entry id>`:
 * stable across relay restarts, so a re-sent event is recognisably the same event.
 */
export const OutboxStreamFields = {
  type: 'type',
  version: 'v',
  /** Milliseconds since the epoch, from Redis TIME inside the script. */
  occurredAtMs: 'at',
  /** JSON of the event's data. */
  data: 'data',
} as const;

/** The envelope's id for a Redis-stream event: `<dropId>:<stream entry id>`. */
export function streamEventId(dropId: string, entryId: string): string {
  return `${dropId}:${entryId}`;
}
