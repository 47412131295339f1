import type { RedisClient } from '@flashdrop/persistence';
import { KnownEnvelope, Topic } from '@flashdrop/events';
import { Inventory } from '@flashdrop/inventory';
import { defineLuaScripts, LuaCall } from '@flashdrop/lua';
import { Logger } from '@nestjs/common';
import { analyticsKeys, STATS_CHANGED_CHANNEL, walletKeys } from './analytics-keys';
import { ANALYTICS_SOURCES } from './analytics-scripts';
import { DropStats, SellThroughPoint } from './stats.types';

/** How long the id of a non-stream event is remembered for dedupe: Kafka's retention (7 days). */
const SEEN_TTL_SECONDS = 7 * 24 * 3600;
/** Points the sell-through chart shows at most: a longer sale is shown in buckets of seconds. */
export const SELL_THROUGH_MAX_POINTS = 300;
/** A drop quiet for this long (s) ends its chart at its last event instead of now. */
export const SELL_THROUGH_IDLE_S = 120;
/** The chart never shows fewer seconds than this. */
const MIN_WINDOW_S = 30;
const TOP_REFERRERS = 10;
/** Events that announce many of a kind at once: their `count` goes where `quantity` would. */
const COUNTED: ReadonlySet<string> = new Set([
  'grab.rejected',
  'reservation.counted',
  'draw.waitlisted',
]);

/** A stream event's id is `<dropId>:<ms>-<seq>` (libs/events streamEventId). */
const STREAM_ID = /^(.*):(\d+-\d+)$/;

/** The number an event's counters move by: units, or the count a batch event carries. */
function quantityOf(type: string, d: Record<string, unknown>): unknown {
  if (COUNTED.has(type)) return d.count;
  if (type === 'draw.committed') return d.entrants;
  return d.quantity;
}

/** A checked event and the topic it came from (the watermark of stream events is per topic). */
export interface TopicEvent {
  readonly event: KnownEnvelope;
  readonly topic: Topic;
}

/** What applying a batch did (`invalid`: events left out, present only when some were). */
export interface ApplyResult {
  applied: number;
  duplicates: number;
  invalid?: number;
}

/**
 * The per-drop statistics, kept in Redis (AOF, so they survive a restart of analytics and of
 * Redis) and changed only by the `apply_event` script, which applies each event exactly once.
 */
export class StatsStore {
  private readonly logger = new Logger(StatsStore.name);
  private readonly inventory: Inventory;
  private readonly applyEvents: LuaCall;

  constructor(private readonly redis: RedisClient) {
    this.inventory = new Inventory(redis);
    this.applyEvents = defineLuaScripts(redis, 'analytics', ANALYTICS_SOURCES).apply_event;
  }

  /**
   * Applies a batch of checked events (a Kafka batch, in partition order), each exactly once:
   * one `apply_event` call per drop in the batch, carrying that drop's events in their order.
   * The calls are issued back to back on one connection, so they reach Redis in call order.
   */
  async applyBatch(events: readonly TopicEvent[]): Promise<ApplyResult> {
    const byDrop = new Map<string, TopicEvent[]>();
    for (const item of events) {
      const dropId = (item.event.data as { dropId?: string }).dropId ?? '';
      const list = byDrop.get(dropId);
      if (list) list.push(item);
      else byDrop.set(dropId, [item]);
    }
    const results = await Promise.all(
      [...byDrop].map(([dropId, items]) => this.applyDropEvents(dropId, items)),
    );
    const sum = { applied: 0, duplicates: 0, invalid: 0 };
    for (const [applied, duplicates, invalid] of results) {
      sum.applied += applied;
      sum.duplicates += duplicates;
      sum.invalid += invalid;
    }
    if (sum.invalid === 0) return { applied: sum.applied, duplicates: sum.duplicates };
    this.logger.error(`${sum.invalid} events could not be counted and were left out`);
    return sum;
  }

  /** One script call for one drop's events ('' = events of no drop: wallet credits). */
  private async applyDropEvents(
    dropId: string,
    items: readonly TopicEvent[],
  ): Promise<[applied: number, duplicates: number, invalid: number]> {
    const k = dropId ? analyticsKeys(dropId) : undefined;
    const keys = k
      ? [k.stats, k.channels, k.referrers, k.seconds, k.watermark]
      : [walletKeys.stats, walletKeys.stats, walletKeys.stats, walletKeys.stats, walletKeys.stats];
    const args: (string | number)[] = [];
    for (const { event, topic } of items) {
      const d = event.data as unknown as Record<string, unknown>;
      const streamId = STREAM_ID.exec(event.id);
      // Only a drop's own stream ids are ordered by its watermark; anything else is a seen-key.
      if (k && streamId !== null && streamId[1] === dropId) {
        args.push('wm', topic, streamId[2]);
      } else {
        keys.push(k ? k.seen(event.id) : walletKeys.seen(event.id));
        args.push('seen', SEEN_TTL_SECONDS, '');
      }
      const num = (v: unknown) => (typeof v === 'number' ? v : 0);
      const text = d.code ?? d.channel ?? d.referrerId ?? d.brandId ?? d.phase ?? '';
      args.push(
        event.type,
        Date.parse(event.occurredAt),
        num(quantityOf(event.type, d)),
        num(d.amountMinor),
        typeof d.remaining === 'number' ? d.remaining : '',
        String(text),
        // The price slot carries a group member's escrow on order events (drop events: price).
        num(d.priceMinor ?? d.escrowMinor),
        typeof d.currency === 'string' ? d.currency : '',
        num(d.rewardMinor),
      );
    }
    return (await this.applyEvents(keys.length, ...keys, ...args)) as [number, number, number];
  }

  /**
   * Tells every analytics instance which drops' stats just changed (Redis pub/sub), so their
   * live streams send a frame now rather than at the next second.
   */
  async announceChanged(dropIds: Iterable<string>): Promise<void> {
    const list = [...dropIds];
    if (list.length > 0) await this.redis.publish(STATS_CHANGED_CHANNEL, list.join(','));
  }

  /** Calls `changed` with the drops each announcement names, on a connection of its own. */
  static listenForChanges(
    subscriber: RedisClient,
    changed: (dropIds: string[]) => void,
  ): Promise<unknown> {
    subscriber.on('message', (_channel: string, message: string) => changed(message.split(',')));
    return subscriber.subscribe(STATS_CHANGED_CHANNEL);
  }

  /** The drop's statistics as the stats route answers them (docs/api.md) plus the dashboard's extras. */
  async read(dropId: string, now = Date.now()): Promise<DropStats> {
    const k = analyticsKeys(dropId);
    const [hash, channels, referrers, sale] = await Promise.all([
      this.redis.hgetall(k.stats),
      this.redis.hgetall(k.channels),
      this.redis.zrevrange(k.referrers, 0, TOP_REFERRERS - 1, 'WITHSCORES'),
      // The phase and title are the sale's own (by the sale clock, now), not derived from events.
      this.inventory.viewDrop(dropId).catch(() => undefined),
    ]);
    const int = (field: string) => Number(hash[field] ?? 0);
    // Codes in a fixed order (by name), not the hash's: apply_event writes a batch's counters
    // once each at the end, in no particular order, so the hash's field order says nothing.
    const rejections: Record<string, number> = {};
    for (const field of Object.keys(hash).sort()) {
      if (field.startsWith('rej:')) rejections[field.slice(4)] = Number(hash[field]);
    }
    const sharesByChannel: Record<string, number> = {};
    for (const [channel, value] of Object.entries(channels)) sharesByChannel[channel] = +value;
    const topReferrers: { referrerId: string; referrals: number }[] = [];
    for (let i = 0; i + 1 < referrers.length; i += 2) {
      topReferrers.push({ referrerId: referrers[i], referrals: Number(referrers[i + 1]) });
    }
    const quantity = int('quantity');
    const lastEventAt = hash.lastEventAt ? Number(hash.lastEventAt) : undefined;
    const iso = (field: string) =>
      hash[field] ? new Date(Number(hash[field])).toISOString() : null;
    return {
      dropId,
      quantity,
      // The stock the last sale event reported (its script's truth); before any, all of it.
      remaining: hash.remaining !== undefined ? Number(hash.remaining) : quantity,
      held: int('held'),
      paid: int('paid'),
      expired: int('expired'),
      cancelled: int('cancelled'),
      refunded: int('refunded'),
      reservations: int('reservations'),
      entrants: int('entrants'),
      winners: int('winners'),
      waitlisted: int('waitlisted'),
      backfilled: int('backfilled'),
      shares: int('shares'),
      referrals: int('referrals'),
      grabAttempts: int('grabAttempts'),
      rejections,
      revenueMinor: int('revenueMinor'),
      referralRewardsMinor: int('referralRewardsMinor'),
      firstSaleAt: iso('firstSaleAt'),
      soldOutAt: iso('soldOutAt'),
      currency: hash.currency ?? null,
      priceMinor: int('priceMinor'),
      phase: sale?.phase ?? hash.phase ?? null,
      title: sale?.definition.title ?? null,
      paused: hash.paused === '1',
      acceptedOrders: int('accepted'),
      paidOrders: int('paidOrders'),
      waitlistJoined: int('waitlistJoined'),
      drawnAt: iso('drawnAt'),
      walletDebits: int('walletDebits'),
      walletDebitedMinor: int('walletDebitedMinor'),
      refundedOrders: int('refundedOrders'),
      grouped: int('grouped'),
      escrowMinor: int('escrowMinor'),
      groupsCompleted: int('groupsCompleted'),
      groupsFailed: int('groupsFailed'),
      walletRefunds: int('walletRefunds'),
      walletRefundedMinor: int('walletRefundedMinor'),
      sharesByChannel,
      topReferrers,
      sellThrough: await this.sellThrough(
        k.seconds,
        lastEventAt,
        hash.firstSaleAt ? Number(hash.firstSaleAt) : undefined,
        now,
      ),
      lastEventAt: lastEventAt ? new Date(lastEventAt).toISOString() : null,
      generatedAt: new Date(now).toISOString(),
    };
  }

  /**
   * Units grabbed and paid over the whole sale: from a few seconds before its first activity to
   * now while it is active (or to its last event once it went quiet for SELL_THROUGH_IDLE_S),
   * per second, or per bucket of several seconds once the sale is longer than
   * SELL_THROUGH_MAX_POINTS seconds, so a rush stays on the chart however long ago it was.
   */
  private async sellThrough(
    key: string,
    lastEventAt: number | undefined,
    firstSaleAt: number | undefined,
    now: number,
  ): Promise<SellThroughPoint[]> {
    if (lastEventAt === undefined) return [];
    const fields = await this.redis.hgetall(key);
    const grabbed = new Map<number, number>();
    const paid = new Map<number, number>();
    let first = firstSaleAt === undefined ? undefined : Math.floor(firstSaleAt / 1000);
    for (const [field, value] of Object.entries(fields)) {
      const second = Number(field.slice(1));
      if (!Number.isSafeInteger(second)) continue;
      (field[0] === 'g' ? grabbed : paid).set(second, Number(value));
      first = first === undefined ? second : Math.min(first, second);
    }
    const nowS = Math.floor(now / 1000);
    const lastS = Math.floor(lastEventAt / 1000);
    const end = nowS - lastS <= SELL_THROUGH_IDLE_S ? nowS : lastS;
    let start = (first ?? lastS) - 2;
    start = Math.min(start, end - MIN_WINDOW_S + 1);
    const span = end - start + 1;
    const width = Math.max(1, Math.ceil(span / SELL_THROUGH_MAX_POINTS));
    const points: SellThroughPoint[] = [];
    for (let at = start; at <= end; at += width) {
      let g = 0;
      let p = 0;
      for (let s = at; s < at + width && s <= end; s++) {
        g += grabbed.get(s) ?? 0;
        p += paid.get(s) ?? 0;
      }
      points.push({ at: new Date(at * 1000).toISOString(), seconds: width, grabbed: g, paid: p });
    }
    return points;
  }
}
