import type { RedisClient } from '@flashdrop/persistence';
import { Logger } from '@nestjs/common';
import { DROPS_ACTIVE_KEY, dropKeys } from '../keys';
import { OutboxStreamGroups } from './stream-groups';

/** XINFO GROUPS answers one flat [name, value, ...] list per group. */
type GroupInfo = (string | number | null)[];

/**
 * Trims the outbox streams so they do not grow forever, deleting only entries that EVERY
 * registered consumer group (OutboxStreamGroups: the Kafka relay, order persistence) has
 * acknowledged. If a registered group is missing on a stream, nothing is trimmed there: the
 * group's reader has not started yet and still needs every entry.
 *
 * Why it is safe: for one group, every entry up to `last-delivered-id` is either acknowledged or
 * in its pending list, so everything below the smallest pending id (or, with nothing pending,
 * up to `last-delivered-id`) is acknowledged. Both bounds only ever move forward, so a bound
 * read a moment ago is still safe when XTRIM runs.
 */
export class OutboxTrimmer {
  private readonly logger = new Logger(OutboxTrimmer.name);
  trimmed = 0;

  constructor(private readonly redis: RedisClient) {}

  async trimAll(): Promise<void> {
    // A retired drop's stream was emptied when it retired (retire_drop.lua).
    for (const id of await this.redis.smembers(DROPS_ACTIVE_KEY)) {
      try {
        this.trimmed += await this.trim(dropKeys(id).events);
      } catch (error) {
        this.logger.warn(`trim of ${id} failed: ${String(error)}`);
      }
    }
  }

  /** Trims one stream; answers how many entries were deleted. */
  async trim(key: string): Promise<number> {
    const bound = await this.safeBound(key);
    if (bound === undefined) return 0;
    return (await this.redis.call('XTRIM', key, 'MINID', bound)) as number;
  }

  /** The smallest id still needed by some group (entries below it may go), or undefined. */
  async safeBound(key: string): Promise<string | undefined> {
    const groups = (await this.redis.call('XINFO', 'GROUPS', key).catch(() => [])) as GroupInfo[];
    const byName = new Map(groups.map((g) => [String(field(g, 'name')), g]));
    let bound: string | undefined;
    for (const name of Object.values(OutboxStreamGroups)) {
      const group = byName.get(name);
      if (!group) return undefined;
      let needed = nextId(String(field(group, 'last-delivered-id')));
      if (Number(field(group, 'pending')) > 0) {
        // Acknowledged since XINFO was read: then nothing is pending and the bound above holds.
        const summary = (await this.redis.xpending(key, name)) as [number, string | null];
        if (summary[1] !== null) needed = summary[1];
      }
      if (bound === undefined || compareIds(needed, bound) < 0) bound = needed;
    }
    return bound;
  }
}

function field(info: GroupInfo, name: string): string | number | null | undefined {
  const i = info.indexOf(name);
  return i >= 0 ? info[i + 1] : undefined;
}

/** The stream id right after `id` (`ms-seq` -> `ms-(seq+1)`). */
export function nextId(id: string): string {
  const [ms, seq] = id.split('-');
  return `${ms}-${BigInt(seq) + 1n}`;
}

/** Orders two stream ids numerically (ms first, then sequence). */
export function compareIds(a: string, b: string): number {
  const [am, as] = a.split('-').map(BigInt);
  const [bm, bs] = b.split('-').map(BigInt);
  if (am !== bm) return am < bm ? -1 : 1;
  if (as !== bs) return as < bs ? -1 : 1;
  return 0;
}
