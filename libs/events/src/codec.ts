import { parseRfc3339 } from '@flashdrop/contracts';
import { EventEnvelope, OutboxStreamFields, streamEventId } from './envelope';
import { EventCatalog, EventType, EventVersions } from './event-catalog';
import { isEventType, validateEventData } from './event-schemas';

/** An envelope whose type and data were checked against the catalog. */
export type KnownEnvelope = {
  [T in EventType]: EventEnvelope<T, EventCatalog[T]>;
}[EventType];

export type Decoded<T> =
  { readonly ok: true; readonly value: T } | { readonly ok: false; readonly reason: string };

/** Kafka message headers every event carries, so tools can route without parsing the value. */
export const EventHeaders = { id: 'event-id', type: 'event-type', version: 'event-version' };

export function encodeEnvelope(envelope: EventEnvelope): string {
  return JSON.stringify(envelope);
}

/** Checks an envelope read from anywhere (Kafka value, outbox row) against the catalog. */
export function checkEnvelope(raw: unknown): Decoded<KnownEnvelope> {
  if (typeof raw !== 'object' || raw === null) return { ok: false, reason: 'not an object' };
  const e = raw as Record<string, unknown>;
  if (typeof e.id !== 'string' || e.id.length === 0 || e.id.length > 300)
    return { ok: false, reason: 'id must be a non-empty string' };
  if (!isEventType(e.type)) return { ok: false, reason: `unknown type ${String(e.type)}` };
  if (e.version !== EventVersions[e.type])
    return {
      ok: false,
      reason: `${e.type} version ${String(e.version)} is not ${EventVersions[e.type]}`,
    };
  if (parseRfc3339(e.occurredAt) === undefined)
    return { ok: false, reason: 'occurredAt must be an RFC 3339 time' };
  if (typeof e.key !== 'string' || e.key.length === 0)
    return { ok: false, reason: 'key must be a non-empty string' };
  const problems = validateEventData(e.type, e.data);
  if (problems.length > 0) return { ok: false, reason: problems.join('; ') };
  return { ok: true, value: raw as KnownEnvelope };
}

/** Parses and checks a Kafka message value. */
export function decodeEnvelope(value: Buffer | string | null | undefined): Decoded<KnownEnvelope> {
  if (value === null || value === undefined) return { ok: false, reason: 'empty message' };
  let parsed: unknown;
  try {
    parsed = JSON.parse(typeof value === 'string' ? value : value.toString('utf8'));
  } catch {
    return { ok: false, reason: 'value is not JSON' };
  }
  return checkEnvelope(parsed);
}

/**
 * Turns one outbox stream entry (fields as the Lua scripts write them, see OutboxStreamFields)
 * into its envelope. The id is `<dropId>:<entry id>`, so a re-sent entry is the same event.
 */
export function envelopeFromStreamEntry(
  dropId: string,
  entryId: string,
  fields: Readonly<Record<string, string>>,
): Decoded<KnownEnvelope> {
  const at = Number(fields[OutboxStreamFields.occurredAtMs]);
  if (!Number.isFinite(at)) return { ok: false, reason: 'entry has no valid `at`' };
  let data: unknown;
  try {
    data = JSON.parse(fields[OutboxStreamFields.data] ?? '');
  } catch {
    return { ok: false, reason: 'entry `data` is not JSON' };
  }
  return checkEnvelope({
    id: streamEventId(dropId, entryId),
    type: fields[OutboxStreamFields.type],
    version: Number(fields[OutboxStreamFields.version]),
    occurredAt: new Date(at).toISOString(),
    key: dropId,
    data,
  });
}

/** What goes to the dead-letter topic: the message as it came, where from, and why. */
export interface DeadLetterRecord {
  readonly reason: string;
  /** Who refused it: `relay` or the consumer group. */
  readonly refusedBy: string;
  /** `topic/partition/offset` or `stream/entryId`. */
  readonly source: string;
  readonly key: string | null;
  readonly value: string | null;
  readonly at: string;
}

/** Turns a flat Redis field list into a record (XREAD returns [k1, v1, k2, v2, ...]). */
export function fieldsToRecord(fields: readonly string[]): Record<string, string> {
  const record: Record<string, string> = {};
  for (let i = 0; i + 1 < fields.length; i += 2) record[fields[i]] = fields[i + 1];
  return record;
}
