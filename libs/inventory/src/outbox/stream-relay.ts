import { Logger } from '@nestjs/common';
import {
  DeadLetterRecord,
  EventHeaders,
  encodeEnvelope,
  envelopeFromStreamEntry,
  fieldsToRecord,
  ResettableProducer,
  Topics,
  topicName,
  topicOf,
} from '@flashdrop/events';
import { defineLuaScripts, LuaCall } from '@flashdrop/lua';
import { isCluster, RedisClient, sleep } from '@flashdrop/persistence';
import { Message, TopicMessages } from 'kafkajs';
import { DROPS_ACTIVE_KEY, dropIdOfStream, dropKeys } from '../keys';
import { INVENTORY_SCRIPTS, INVENTORY_SOURCES } from '../lua-scripts';
import { ensureGroups, OutboxStreamGroups } from './stream-groups';

export interface StreamRelayOptions {
  /** KAFKA_TOPIC_PREFIX of this stack. */
  readonly topicPrefix: string;
  /** Entries read per stream per round. */
  readonly batchSize?: number;
  /** How long one blocking read waits for new entries. */
  readonly blockMs?: number;
  /**
   * Pause after a round that sent less than a full batch, so the next round finds more: in a
   * rush every Kafka request, XREADGROUP and XACK then carries many entries instead of a few
   * (what each costs the worker, Redis and the broker is mostly per request, not per entry).
   * The first entry after a quiet spell still goes out at once; it adds at most this much to
   * the delay of the entries that follow it.
   */
  readonly lingerMs?: number;
  /**
   * The pause instead after a round that found the stream hot (at least HOT_SHARE of a batch
   * waiting, e.g. a rush): long enough that the next round carries a few hundred entries. Every
   * round costs each process of the pipeline about the same whatever it carries (a Kafka
   * produce request, a fetch answer for every consumer group, an apply and a commit per
   * partition), so fewer, fuller rounds are what a rush saves on. What it costs: while the stream
   * is hot, an entry reaches Kafka up to this much later (the live view: `hotLingerMs -
   * lingerMs` more, 75 ms by default); a quiet stream still uses `lingerMs`.
   */
  readonly hotLingerMs?: number;
  /**
   * Told after every batch Kafka acknowledged: how many entries it carried and how long ago
   * the oldest of them was written (its stream id's time, against this process's clock): the
   * delay the relay adds to what the dashboard shows. For metrics; must not throw.
   */
  readonly onBatch?: (entries: number, oldestAgeMs: number) => void;
}

/** One stream's entries as XREADGROUP answers them (`fields` null: trimmed while pending). */
type StreamEntries = [id: string, fields: string[] | null][];

/** relay_read.lua's answer: per stream, its entries, and its newest id when none were read. */
type ReadResult = [key: string, entries: StreamEntries, lastId: string][];

/** Group name the relay reads with; its one consumer name is fixed, so a new leader inherits the pending list. */
const GROUP = OutboxStreamGroups.kafkaRelay;
const CONSUMER = 'relay';
/** Streams per relay_read call (one call may name many streams on one Redis node). */
const STREAMS_PER_READ = 200;
/** How long an empty round on a Redis Cluster waits before the next (it cannot block). */
const CLUSTER_IDLE_NAP_MS = 50;
/** A round that read at least this share of a batch found the stream hot (see hotLingerMs). */
const HOT_SHARE = 0.1;
/** Messages per Kafka request, so one record batch stays far under the broker's 1 MB limit. */
const MESSAGES_PER_SEND = 1000;

/**
 * Relays every drop's outbox stream (`{d:ID}:events`) to Kafka: the leader's loop of the worker.
 *
 * Delivery: at least once, in stream order per drop. Each entry is read through the consumer
 * group `kafka-relay`, sent with the idempotent producer (acks = all) keyed by the drop id, and
 * XACKed only after Kafka acknowledged it. A crash between the two re-sends the entry later
 * with the same event id (`<dropId>:<entry id>`), which consumers dedupe.
 *
 * Order: a drop's entries go out in id order, also while two relays run at once (a leader that
 * was paused past its lease and its successor). Every read is relay_read.lua: one atomic step
 * that answers a stream's pending list (delivered, never acknowledged) when it has one and only
 * otherwise new entries, under one consumer name for every relay. So after a failed send, or
 * when another relay holds entries it has not yet sent, those go out again before anything
 * newer, and a later entry never reaches Kafka before an earlier one that was still
 * unacknowledged (consumers rely on this: analytics dedupes stream events by a per-drop
 * high-water mark; what can arrive late is only a second copy of an event it already has).
 *
 * An entry that is not a valid catalog event goes to the dead-letter topic with its raw fields
 * instead of blocking the stream.
 */
export class StreamRelay {
  private readonly logger = new Logger(StreamRelay.name);
  private readonly batchSize: number;
  private readonly blockMs: number;
  private readonly lingerMs: number;
  private readonly hotLingerMs: number;
  private readonly groupsReady = new Set<string>();
  private readonly readStreams: LuaCall;
  private streams: string[] = [];
  private indexSize = -1;
  private indexReadAt = 0;
  relayed = 0;

  constructor(
    /** Shared connection for commands. */
    private readonly redis: RedisClient,
    /** A connection of its own: blocking reads must not hold up other commands. */
    private readonly reader: RedisClient,
    private readonly producer: ResettableProducer,
    private readonly options: StreamRelayOptions,
  ) {
    this.batchSize = options.batchSize ?? 500;
    this.blockMs = options.blockMs ?? 200;
    this.lingerMs = options.lingerMs ?? 25;
    this.hotLingerMs = options.hotLingerMs ?? 100;
    this.readStreams = defineLuaScripts(reader, INVENTORY_SCRIPTS.prefix, {
      relay_read: INVENTORY_SOURCES.relay_read,
    }).relay_read;
  }

  /** Relays until `signal` aborts (lease lost or shutdown). */
  async run(signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      try {
        await this.refreshStreams();
        if (this.streams.length === 0) {
          await sleep(this.blockMs, signal);
          continue;
        }
        const sent = await this.round(signal);
        const pause = lingerAfter(sent, this.batchSize, this.lingerMs, this.hotLingerMs);
        if (pause > 0) await sleep(pause, signal);
      } catch (error) {
        // What was read stays pending: the next read of each stream answers it first.
        this.logger.warn(
          `relay round failed, re-sending the pending entries next: ${String(error)}`,
        );
        // A stream whose group is gone (Redis lost the drop, which was rebuilt; or restored
        // from an older copy): make sure of every stream's groups again before the next read.
        if (String(error).includes('NOGROUP')) this.groupsReady.clear();
        await this.producer.reset();
        await sleep(500, signal);
      }
    }
  }

  /**
   * Finds the active drops' streams (a retired drop has nothing left to relay, and an event on
   * it re-activates it first). The index is read again when its size changes or every 5 s; each
   * new stream gets every registered group (see OutboxStreamGroups).
   */
  private async refreshStreams(): Promise<void> {
    const size = await this.redis.scard(DROPS_ACTIVE_KEY);
    if (size === this.indexSize && Date.now() - this.indexReadAt < 5000) return;
    const ids = await this.redis.smembers(DROPS_ACTIVE_KEY);
    for (const id of ids) {
      if (this.groupsReady.has(id)) continue;
      await ensureGroups(this.redis, dropKeys(id).events);
      this.groupsReady.add(id);
    }
    this.streams = ids.map((id) => dropKeys(id).events);
    this.indexSize = size;
    this.indexReadAt = Date.now();
  }

  /** One read over every stream, one send, one acknowledgement; answers how many entries. */
  private async round(signal: AbortSignal): Promise<number> {
    if (isCluster(this.reader)) return this.clusterRound(signal);
    let total = 0;
    const chunks = chunk(this.streams, STREAMS_PER_READ);
    for (const keys of chunks) {
      if (signal.aborted) break;
      const result = await this.read(keys);
      const sent = await this.relay(result, signal);
      total += sent;
      // Nothing new and one read covers every stream: wait (blocking) until any stream has an
      // entry past its newest id, without reading it, so the next round reads it at once.
      if (sent === 0 && chunks.length === 1) {
        await this.reader.call(
          'XREAD',
          'BLOCK',
          this.blockMs,
          'STREAMS',
          ...keys,
          ...result.map(([, , lastId]) => lastId),
        );
      }
    }
    if (total === 0 && chunks.length > 1) await sleep(20, signal);
    return total;
  }

  /**
   * The same round on a Redis Cluster, where one script may name the keys of one slot only, so
   * one drop's stream: a read per stream, all sent at once, then one send and one
   * acknowledgement as above. Nothing can block on every stream, so an empty round naps
   * CLUSTER_IDLE_NAP_MS (the first entry after a quiet spell waits up to that long; in a rush
   * the rounds follow each other without a nap).
   */
  private async clusterRound(signal: AbortSignal): Promise<number> {
    let total = 0;
    for (const keys of chunk(this.streams, STREAMS_PER_READ)) {
      if (signal.aborted) break;
      const results = await Promise.all(keys.map((key) => this.read([key])));
      total += await this.relay(results.flat(), signal);
    }
    if (total === 0) await sleep(CLUSTER_IDLE_NAP_MS, signal);
    return total;
  }

  /** relay_read.lua over streams of one node: each stream's pending entries, else its new ones. */
  private async read(keys: readonly string[]): Promise<ReadResult> {
    return (await this.readStreams(
      keys.length,
      ...keys,
      GROUP,
      CONSUMER,
      this.batchSize,
    )) as ReadResult;
  }

  /**
   * Sends what was read, then acknowledges it. Checked before each send: once `signal` aborts
   * (the lease is about to run out) nothing more goes to Kafka; what was read stays pending,
   * and the next leader's first read answers it (relay_read.lua).
   */
  private async relay(result: ReadResult, signal: AbortSignal): Promise<number> {
    const byTopic = new Map<string, Message[]>();
    const acks: [key: string, ids: string[]][] = [];
    let count = 0;
    let oldestMs = Infinity;
    for (const [key, entries] of result) {
      if (entries.length === 0) continue;
      const dropId = dropIdOfStream(key);
      const ids: string[] = [];
      // Ids grow within a stream: its first entry is its oldest.
      oldestMs = Math.min(oldestMs, Number.parseInt(entries[0][0], 10));
      for (const [entryId, fields] of entries) {
        ids.push(entryId);
        count++;
        // Trimmed while pending (cannot happen while this group holds it, but never block on it).
        if (fields === null) continue;
        const record = fieldsToRecord(fields);
        const decoded = envelopeFromStreamEntry(dropId, entryId, record);
        const topic = decoded.ok ? topicOf(decoded.value.type) : Topics.deadLetter;
        const message: Message = decoded.ok
          ? {
              key: dropId,
              value: encodeEnvelope(decoded.value),
              headers: {
                [EventHeaders.id]: decoded.value.id,
                [EventHeaders.type]: decoded.value.type,
                [EventHeaders.version]: String(decoded.value.version),
              },
            }
          : {
              key: dropId,
              value: JSON.stringify(deadLetter(key, entryId, record, decoded.reason)),
            };
        const name = topicName(topic, this.options.topicPrefix);
        const list = byTopic.get(name) ?? [];
        list.push(message);
        byTopic.set(name, list);
      }
      acks.push([key, ids]);
    }
    if (count === 0) return 0;
    const producer = await this.producer.get();
    for (const topicMessages of splitForSend(byTopic)) {
      if (signal.aborted) return 0;
      await producer.sendBatch({ topicMessages, acks: -1 });
    }
    // Only now, with Kafka's acknowledgement in hand, may the entries leave the pending list.
    // One XACK per stream (each drop is a slot of its own on a Redis Cluster); auto-pipelining
    // sends them in one write per node.
    await Promise.all(acks.map(([key, ids]) => this.redis.xack(key, GROUP, ...ids)));
    this.relayed += count;
    this.options.onBatch?.(count, Date.now() - oldestMs);
    return count;
  }
}

/**
 * The pause after a round that sent `sent` entries: none after an empty round (it waited
 * already) or a full batch (more is waiting); `hotLingerMs` when the round found the stream hot
 * (at least HOT_SHARE of a batch), else `lingerMs`.
 */
export function lingerAfter(
  sent: number,
  batchSize: number,
  lingerMs: number,
  hotLingerMs: number,
): number {
  if (sent <= 0 || sent >= batchSize) return 0;
  return sent >= batchSize * HOT_SHARE ? Math.max(lingerMs, hotLingerMs) : lingerMs;
}

function deadLetter(
  key: string,
  entryId: string,
  record: Record<string, string>,
  reason: string,
): DeadLetterRecord {
  return {
    reason,
    refusedBy: 'stream-relay',
    source: `${key}/${entryId}`,
    key: dropIdOfStream(key),
    value: JSON.stringify(record),
    at: new Date().toISOString(),
  };
}

/**
 * Splits the messages into Kafka requests of at most MESSAGES_PER_SEND, keeping each topic's
 * messages in order across requests (the requests are sent one after the other).
 */
function splitForSend(byTopic: Map<string, Message[]>): TopicMessages[][] {
  const requests: TopicMessages[][] = [];
  let current: TopicMessages[] = [];
  let size = 0;
  for (const [topic, messages] of byTopic) {
    for (const part of chunk(messages, MESSAGES_PER_SEND)) {
      if (size + part.length > MESSAGES_PER_SEND && current.length > 0) {
        requests.push(current);
        current = [];
        size = 0;
      }
      current.push({ topic, messages: part });
      size += part.length;
    }
  }
  if (current.length > 0) requests.push(current);
  return requests;
}

function chunk<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}
