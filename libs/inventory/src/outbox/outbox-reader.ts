import type { RedisClient } from '@flashdrop/persistence';
import { fieldsToRecord } from '@flashdrop/events';
import { dropKeys } from '../keys';
import { ensureGroup, OutboxStreamGroup } from './stream-groups';

/** One entry of a drop's outbox stream, its fields as the scripts wrote them (OutboxStreamFields). */
export interface OutboxEntry {
  readonly id: string;
  readonly fields: Readonly<Record<string, string>>;
}

/** XREADGROUP's answer (`fields` null for an entry trimmed while pending: never for this group). */
type StreamReply = [key: string, entries: [id: string, fields: string[] | null][]][] | null;

/**
 * Reads the drops' outbox streams through one consumer group (OutboxStreamGroups), at least
 * once: a batch is acknowledged only after its handler resolved, and a reader that has just
 * become the group's reader (a new lease holder) first re-reads what was delivered and never
 * acknowledged, from the stream's pending list. One drop at a time, in stream order.
 *
 * A batch whose handler failed (a PostgreSQL blip) stays in the pending list, and the stream
 * goes back to being read from its pending list: the next pass hands the same entries again,
 * before anything newer, until the handler succeeds. (Reading on from '>' would leave them
 * pending for good, and the trimmer, which keeps everything from a group's oldest pending
 * entry on, would never trim that stream again.)
 */
export class OutboxReader {
  private readonly groups = new Set<string>();
  /** Streams whose pending (delivered, unacknowledged) entries this reader has re-read. */
  private readonly recovered = new Set<string>();

  constructor(
    private readonly redis: RedisClient,
    private readonly group: OutboxStreamGroup,
    /** One fixed consumer name: a new holder inherits its predecessor's pending list. */
    private readonly consumer: string,
    private readonly batchSize = 500,
  ) {}

  /** Re-read every pending entry on the next pass (call when this process takes over). */
  takeOver(): void {
    this.recovered.clear();
  }

  /** Hands every new entry of the drop to `handle`, batch by batch; answers how many. */
  async readDrop(
    dropId: string,
    handle: (entries: readonly OutboxEntry[]) => Promise<void>,
  ): Promise<number> {
    const stream = dropKeys(dropId).events;
    if (!this.groups.has(stream)) {
      await ensureGroup(this.redis, stream, this.group);
      this.groups.add(stream);
    }
    let read = 0;
    for (;;) {
      const from = this.recovered.has(stream) ? '>' : '0';
      try {
        const reply = (await this.read(stream, from)) as StreamReply;
        const entries = reply?.[0]?.[1] ?? [];
        if (entries.length === 0) {
          if (from === '0') {
            this.recovered.add(stream);
            continue;
          }
          return read;
        }
        await handle(entries.map(([id, fields]) => ({ id, fields: fieldsToRecord(fields ?? []) })));
        read += entries.length;
        await this.redis.xack(stream, this.group, ...entries.map(([id]) => id));
        if (entries.length < this.batchSize && from === '>') return read;
      } catch (error) {
        // Whatever failed (the handler, the acknowledgement, a read whose reply was lost after
        // Redis had delivered it), the entries may be pending now: read the pending list first.
        this.recovered.delete(stream);
        throw error;
      }
    }
  }

  /**
   * One XREADGROUP of the stream. A stream whose group is gone (Redis lost the drop and it was
   * rebuilt) gets its group again on the next pass rather than failing every pass.
   */
  private async read(stream: string, from: '0' | '>'): Promise<unknown> {
    try {
      return await this.redis.xreadgroup(
        'GROUP',
        this.group,
        this.consumer,
        'COUNT',
        this.batchSize,
        'STREAMS',
        stream,
        from,
      );
    } catch (error) {
      if (String(error).includes('NOGROUP')) this.groups.delete(stream);
      throw error;
    }
  }
}
