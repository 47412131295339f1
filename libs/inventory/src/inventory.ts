import { RedisClient, waitForReplicas } from '@flashdrop/persistence';
import {
  DomainError,
  ErrorBody,
  ErrorCode,
  ErrorMessages,
  isErrorCode,
  Order,
} from '@flashdrop/contracts';
import { defineLuaScripts, LuaArg, LuaCall } from '@flashdrop/lua';
import { randomBytes } from 'node:crypto';
import { BadRecordError } from './bad-record';
import { StockBuckets } from './buckets';
import { ORDERS_BEYOND_LIMIT } from './order-list-bound';
import { dropIdOfOrder, newGroupId, newOrderId } from './ids';
import { DROPS_ACTIVE_KEY, DROPS_INDEX_KEY, dropKeys, STANDING_CHANNEL } from './keys';
import { OutboxStreamGroups } from './outbox/stream-groups';
import { INVENTORY_SCRIPTS, INVENTORY_SOURCES, ScriptName } from './lua-scripts';
import { RefusalTally } from './refusal-tally';
import { parseDefinition, parseGroup, parseOrder } from './hashes';
import { readReservedAt, readStoredSale, StoredSale } from './stored-sale';
import { RebuiltStanding } from './rebuilt-standing';
import { ensureGroups } from './outbox/stream-groups';
import {
  DEFAULT_GROUP_SECONDS,
  DropCounters,
  DropDefinition,
  DropSummary,
  DropPhase,
  DropPhases,
  DropState,
  ExpirySweep,
  FanStanding,
  GrabOutcome,
  GrabRequest,
  GroupFailStep,
  holdsUnits,
  InventoryGroup,
  InventoryOrder,
  SyncOutcome,
  Outcome,
  ParkedHandDown,
  Refusal,
  Reservation,
  WaitlistPlace,
} from './types';

type Arg = LuaArg;
type Reply = readonly unknown[];

/** How many replicas must have an answered step before its answer, and how long to wait. */
export interface ReplicaWait {
  readonly replicas: number;
  readonly timeoutMs: number;
}

/** The scripts whose success a fan is answered for: with a ReplicaWait they wait for replicas. */
const ANSWERED_STEPS: ReadonlySet<ScriptName> = new Set<ScriptName>([
  'reserve',
  'grab',
  'begin_payment',
  'complete_payment',
  'abort_payment',
  'cancel_order',
  // A fan's place in line is answered too: a failover must not lose it.
  'join_waitlist',
]);

/** Orders per restore_orders call when a lost drop is rebuilt: short scripts, Redis stays free. */
const RESTORE_BATCH = 500;

/** The allocation number in a passed-down hold's id (`<dropId>-r<15 digits>`, _lib backfill_hold); 0 for any other. */
function passedDownSeq(orderId: string): number {
  const m = /-r(\d{15})$/.exec(orderId);
  return m ? Number(m[1]) : 0;
}

/** How long begin_payment fences an order by default: the wallet's debit must finish within. */
export const DEFAULT_PAYING_TTL_MS = 30_000;

/**
 * A refund is left to the worker's refund recovery once it has been under way this long: the
 * API's own caller finishes (or aborts) it in well under a second, so a refund this old lost its
 * caller (a crash, a timeout). The audit calls a refund still under way well past it stuck.
 */
export const REFUND_GRACE_MS = 10_000;

/**
 * How many distinct share channels a drop counts by name (share.lua); shares on any further
 * channel count under OTHER_SHARE_CHANNEL. Each channel is a field of every stats read and
 * live frame, and a channel is free text a fan chooses.
 */
export const SHARE_CHANNELS_PER_DROP = 20;
export const OTHER_SHARE_CHANNEL = 'other';

/**
 * The typed face of the Lua scripts (libs/inventory/README.md): every change of the sale's
 * state in Redis goes through here. Lua's answers become ErrorCodes of libs/contracts here and
 * nowhere else. Scripts are defined once per connection (`defineCommand`: EVALSHA, and EVAL
 * again after a Redis restart empties its script cache).
 */
export class Inventory {
  private readonly scripts: Record<ScriptName, LuaCall>;
  /** Grab refusals, counted here and written in aggregate (refusal-tally.ts). */
  readonly refusals = new RefusalTally((dropId, batchId, counts) =>
    this.countRefusals(dropId, batchId, counts),
  );

  /** The grab and upkeep of drops split into stock buckets (buckets.ts, docs/scale.md). */
  readonly buckets: StockBuckets;

  constructor(
    readonly redis: RedisClient,
    /** REDIS_WAIT_REPLICAS / REDIS_WAIT_TIMEOUT_MS: none by default (scripts, tests, tools). */
    private readonly replication: ReplicaWait = { replicas: 0, timeoutMs: 0 },
  ) {
    this.scripts = defineLuaScripts(redis, INVENTORY_SCRIPTS.prefix, INVENTORY_SOURCES);
    this.buckets = new StockBuckets(
      redis,
      (name, keys, args) => this.run(name, keys, args),
      (req, orderId) => this.grab(req, orderId),
      (dropId, code) => this.refusals.record(dropId, code),
    );
  }

  // ---- drops ----------------------------------------------------------------------------

  /**
   * First mirror of a new drop: indexed, stock = quantity, drop.created; a drop of several
   * stock buckets gets its tokens first (buckets.ts). Retry-safe.
   */
  async createDrop(def: DropDefinition): Promise<void> {
    // Indexed first: an id in the index whose drop is missing is skipped; the reverse would
    // hide a drop from the sweeper and the scheduler.
    await this.index(def.id);
    // Tokens before the drop: a grab that meets tokens and no drop is answered NOT_FOUND and
    // gives them back; the reverse would answer SOLD_OUT for a drop with all its stock.
    await this.buckets.issue(def);
    await this.mirror(def, 'create');
  }

  /**
   * Rebuilds a drop Redis lost from the stored truth: its definition (sales.drops) and its
   * orders (sales.orders). The orders go back first, in batches (restore_orders: holds with
   * their deadlines, payments in flight with their attempts (the ones the wallet may debit),
   * refunds under way in the refunding index with their attempts, the per-fan
   * units, the fan's order lists, the counters), then the drop is
   * mirrored with what was held or paid kept out of stock, so no grab meets it half rebuilt.
   * The allocation log's numbering goes on from `allocationHead` (the stored log's last number)
   * or the highest number in a stored order's id, whichever is higher.
   * With `standing` (the caller's reading of the stored truth, `planRebuild` in the API), the
   * fans' standing goes back before the drop is mirrored too (restore_standing): the
   * reservations the stored truth proves, a draw's record, a drawn draw's line; and what could
   * not be rebuilt is written where the audit names it.
   * The outbox stream starts again with every consumer group at its start. Safe to run twice,
   * or from two instances at once. What Redis alone held is not rebuilt: reservations no stored
   * record proves, a first-come line, parked units, a committed draw's secret seed,
   * Idempotency-Keys, refusal and share counters, orders not yet persisted (docs/sale.md).
   */
  async rebuildDrop(
    def: DropDefinition,
    orders: readonly InventoryOrder[],
    allocationHead = 0,
    standing?: RebuiltStanding,
  ): Promise<void> {
    const k = dropKeys(def.id);
    await this.index(def.id);
    await ensureGroups(this.redis, k.events);
    await this.putBackStoredOrders(def.id, orders, allocationHead);
    if (standing) await this.restoreStanding(def.id, standing);
    // Units a fan holds (grouped ones too: paid into the escrow, the group not settled yet; a
    // refund under way holds its units until complete_refund frees them).
    const taken = orders
      .filter((o) => holdsUnits(o.status))
      .reduce((units, o) => units + o.quantity, 0);
    await this.mirror(def, 'restore', Math.max(0, def.quantity - taken));
    // A bucketed drop's tokens for what is in stock now (buckets.ts sweep), at once rather than
    // at the sweeper's next pass: tokens the loss took would answer SOLD_OUT meanwhile.
    const buckets = def.stockBuckets ?? 1;
    if (buckets > 1) await this.buckets.sweep(def.id, buckets);
  }

  /**
   * Puts back every stored order (sales.orders) Redis lacks, oldest first, in batches
   * (restore_orders), and moves the allocation counter past `allocationHead` (the stored log's
   * last number) and every number in a stored order's id. For a drop Redis lost whole it is
   * rebuildDrop's first step. For a drop Redis still has (a failover without WAIT lost its last
   * writes, docs/scale.md "After a failover without WAIT") each order put back takes its units
   * from the stock, as its grab did; an order whose units are no longer in stock, whose fan is
   * at the limit again, or that holds a seat in a group, is not put back: answered in `short`.
   * Safe to run twice, or beside live grabs (each batch is one script).
   */
  async putBackStoredOrders(
    dropId: string,
    orders: readonly InventoryOrder[],
    allocationHead = 0,
  ): Promise<{ restored: number; short: string[] }> {
    const k = dropKeys(dropId);
    // The allocation log goes on past every number it used before the loss (restore_orders).
    const floor = orders.reduce((max, o) => Math.max(max, passedDownSeq(o.id)), allocationHead);
    // The first acknowledged first: when units are short, the earliest holds get them.
    orders = [...orders].sort((a, b) => a.createdAt - b.createdAt);
    let restored = 0;
    const short: string[] = [];
    for (let i = 0; i < Math.max(orders.length, 1); i += RESTORE_BATCH) {
      const batch = orders
        .slice(i, i + RESTORE_BATCH)
        .flatMap((o) => [
          o.id,
          o.fanId,
          o.quantity,
          o.amountMinor,
          o.currency,
          o.status,
          o.createdAt,
          o.expiresAt,
          o.paidAt ?? '',
          o.unitPriceMinor,
          o.discountMinor,
          o.refundedAt ?? '',
          o.refundReason ?? '',
          o.referrerId ?? '',
          o.referrerId === undefined ? '' : (o.rewardMinor ?? ''),
          o.groupId ?? '',
          o.groupedAt ?? '',
          o.status === 'refunding' ? (o.refundingSince ?? '') : '',
          o.status === 'paying' ? (o.payingUntil ?? '') : '',
        ]);
      const r = await this.run(
        'restore_orders',
        [k.fans, k.holds, k.stats, k.refunding, k.stock, k.drop],
        [k.orderPrefix, k.fanOrders(''), floor, ...batch],
      );
      if (r[0] !== 'OK') throw new BadRecordError('drop', dropId, 'its stored orders');
      restored += Number(r[1]);
      short.push(...(r[3] as string[]));
    }
    return { restored, short };
  }

  /** rebuildDrop's second step: restore_standing, part by part, in batches. */
  private async restoreStanding(dropId: string, standing: RebuiltStanding): Promise<void> {
    const k = dropKeys(dropId);
    const keys = [
      k.reservations,
      k.draw,
      k.waitlist,
      k.fans,
      k.stats,
      k.sharers,
      k.referrers,
      k.groups,
    ];
    const run = async (args: Arg[]) => {
      const r = await this.run('restore_standing', keys, args);
      if (r[0] !== 'OK') throw new BadRecordError('drop', dropId, 'its stored standing');
    };
    const { reservedFans, reservedAtOffsetMs, draw, waitlist, lost, rebuiltAt } = standing;
    const { sharers, referrers, groups } = standing;
    for (let i = 0; i < reservedFans.length; i += RESTORE_BATCH) {
      await run(['reservations', reservedAtOffsetMs, ...reservedFans.slice(i, i + RESTORE_BATCH)]);
    }
    if (draw) await run(['draw', ...Object.entries(draw).flat()]);
    for (let i = 0; i < waitlist.length; i += RESTORE_BATCH) {
      const batch = waitlist.slice(i, i + RESTORE_BATCH).flatMap((w) => [w.place, w.fanId]);
      await run(['waitlist', ...batch]);
    }
    for (let i = 0; i < sharers.length; i += RESTORE_BATCH) {
      await run(['sharers', ...sharers.slice(i, i + RESTORE_BATCH)]);
    }
    for (let i = 0; i < referrers.length; i += RESTORE_BATCH) {
      const batch = referrers.slice(i, i + RESTORE_BATCH).flatMap((r) => [r.fanId, r.referrerId]);
      await run(['referrers', ...batch]);
    }
    for (const g of groups) {
      await run([
        'group',
        k.group(''),
        k.groupMembers(''),
        g.id,
        dropId,
        g.size,
        g.startedAt,
        g.expiresAt,
        g.status,
        g.members,
        g.paidMembers,
        g.settledAt ?? '',
        ...g.orderIds,
      ]);
    }
    await run(['lost', rebuiltAt, lost.join(',')]);
  }

  private async index(dropId: string): Promise<void> {
    await this.redis.sadd(DROPS_INDEX_KEY, dropId);
    await this.redis.sadd(DROPS_ACTIVE_KEY, dropId);
  }

  /**
   * The first half of an edit (begin_edit.lua): the drop may still be edited (checked on Redis
   * TIME) and the edit of `version` is marked begun. Commit it to PostgreSQL, then `syncDrop`.
   */
  async beginEdit(dropId: string, version: number): Promise<Outcome<void>> {
    const r = await this.run('begin_edit', [dropKeys(dropId).drop], [version]);
    if (r[0] === 'ERR' && r[1] === 'BAD_RECORD') {
      throw new BadRecordError('drop', dropId, 'begin_edit cannot read it');
    }
    return unit(r);
  }

  /**
   * Makes the mirror PostgreSQL's definition `def` (mirror_drop sync): after an edit's commit,
   * or to repair a mirror that missed one. `locked`: the drop locked before the edit reached
   * it; `running` is the definition the sale runs with, to be written back to PostgreSQL.
   * `repair`: `def` was read holding the row (no edit can be under way), so any begun edit is
   * settled by it.
   */
  async syncDrop(def: DropDefinition, repair = false): Promise<SyncOutcome> {
    const k = dropKeys(def.id);
    const r = await this.run(
      'mirror_drop',
      [k.drop, k.stock, k.events],
      ['sync', repair ? '1' : '', ...fields(def, 'sync')],
    );
    if (r[0] === 'OK') return { status: 'synced' };
    if (r[0] === 'LOCKED') return { status: 'locked', running: parseDefinition(record(r, 1)) };
    if (r[1] === 'NOT_FOUND') return { status: 'missing' };
    throw new BadRecordError('drop', def.id, 'mirror_drop sync refused its definition');
  }

  /**
   * The drop as it stands now, or undefined when Redis has no such drop. Throws BadRecordError
   * when the mirrored hash fails its check (the caller rebuilds it from PostgreSQL).
   */
  async viewDrop(dropId: string): Promise<DropState | undefined> {
    const k = dropKeys(dropId);
    const r = await this.run('view_drop', [k.drop, k.stock, k.reservations], []);
    if (r[0] === 'ERR' && r[1] === 'BAD_RECORD') {
      throw new BadRecordError('drop', dropId, JSON.stringify(record(r, 2)));
    }
    if (r[0] !== 'OK') return undefined;
    const fields = record(r, 5);
    const phase = r[2] as string;
    if (!(DropPhases as readonly string[]).includes(phase)) throw new Error(`bad phase ${phase}`);
    return {
      now: Number(r[1]),
      phase: phase as DropPhase,
      remaining: Math.max(0, Number(r[3])),
      reservations: Number(r[4]),
      definition: parseDefinition(fields),
      ...(fields.editing ? { pendingEdit: Number(fields.editing) } : {}),
    };
  }

  async setPaused(dropId: string, paused: boolean): Promise<Outcome<void>> {
    const k = dropKeys(dropId);
    const r = await this.run('set_paused', [k.drop, k.events], [paused ? '1' : '0']);
    if (r[0] === 'OK') await this.reactivateIf(r[1], dropId);
    return unit(r);
  }

  async cancelDrop(dropId: string): Promise<Outcome<void>> {
    const k = dropKeys(dropId);
    return unit(await this.run('cancel_drop', [k.drop, k.events], []));
  }

  /** The scheduler's step: announces a phase change once (drop.phase_changed). */
  async syncPhase(
    dropId: string,
  ): Promise<{ phase: DropPhase; changed: boolean; parked: number } | undefined> {
    const k = dropKeys(dropId);
    const r = await this.run('sync_phase', [k.drop, k.stock, k.events, k.parked], []);
    if (r[0] !== 'OK') return undefined;
    return { phase: r[1] as DropPhase, changed: r[2] === 1, parked: Number(r[3]) };
  }

  /**
   * Hands down units parked while the sale was paused (hand_down_parked.lua): each to the next
   * eligible fan in line, else to stock. Loops in bounded steps until none is left; nothing
   * moves while the drop is still paused.
   */
  async handDownParked(dropId: string, batch = 100): Promise<ParkedHandDown> {
    let toFans = 0;
    let toStock = 0;
    for (;;) {
      const r = await this.run('hand_down_parked', saleKeys(dropId), [batch]);
      if (r[0] === 'ERR') throw new BadRecordError('drop', dropId, 'hand_down_parked refused it');
      toFans += Number(r[0]);
      toStock += Number(r[1]);
      const stillParked = Number(r[2]);
      if (stillParked === 0 || Number(r[0]) + Number(r[1]) === 0) {
        return { toFans, toStock, stillParked };
      }
    }
  }

  /** Every drop ever created (the audit, the pickers). */
  async dropIds(): Promise<string[]> {
    return this.redis.smembers(DROPS_INDEX_KEY);
  }

  /**
   * The drops that may still need work (open, holding units, or with outbox entries not yet
   * read by every group): what the background loops walk. See `retireIfDone`.
   */
  async activeDropIds(): Promise<string[]> {
    return this.redis.smembers(DROPS_ACTIVE_KEY);
  }

  /**
   * Takes a drop out of the active index when retire_drop.lua finds it done (over, holding
   * nothing, drawn if it is a draw, its outbox read by every group); answers whether it did.
   *
   * What must stay true: a drop that gets new work is in the index. So the drop leaves the
   * index first, and only then does the script check and flag it: a script that writes an
   * event in between makes the check fail (an entry no group has read) and the drop goes
   * straight back; one that writes after finds the flag and its caller re-adds it (revive()).
   * A crash in between leaves a drop out of the index without its flag; `reconcileActive`
   * (the scheduler, at start and every few minutes) puts such drops back.
   */
  async retireIfDone(dropId: string): Promise<boolean> {
    const k = dropKeys(dropId);
    const buckets = (await this.buckets.countOf(dropId)) ?? 1;
    const keys = [k.drop, k.stock, k.holds, k.events, k.stats, k.parked, k.draw, k.refunding];
    const groups = Object.values(OutboxStreamGroups);
    // A cheap look first, so an open drop is never taken out of the index even for a moment.
    if ((await this.run('retire_drop', keys, ['check', ...groups]))[0] !== 'READY') return false;
    await this.redis.srem(DROPS_ACTIVE_KEY, dropId);
    const r = await this.run('retire_drop', keys, ['retire', ...groups]);
    if (r[0] === 'RETIRED') {
      if (buckets > 1) await this.buckets.forget(dropId, buckets);
      return true;
    }
    await this.redis.sadd(DROPS_ACTIVE_KEY, dropId);
    return false;
  }

  /**
   * Puts back in the active index every indexed drop that is not flagged retired (a crash
   * between the two steps of `retireIfDone`, or of a script's revive and its caller's re-add).
   * Walks every drop: for the scheduler's start and a slow period. Answers how many it re-added.
   */
  async reconcileActive(chunk = 1000): Promise<number> {
    const ids = await this.dropIds();
    let added = 0;
    for (let i = 0; i < ids.length; i += chunk) {
      const part = ids.slice(i, i + chunk);
      // One command per drop, not one pipeline: on a Redis Cluster the drops sit on different
      // slots and ioredis refuses a pipeline across them, which failed every scheduler pass.
      // Auto-pipelining still sends them together, one write per node.
      const flags = await Promise.all(
        part.map((id) => this.redis.hget(dropKeys(id).drop, 'retired')),
      );
      const live = part.filter((_, j) => flags[j] !== '1');
      if (live.length > 0) added += await this.redis.sadd(DROPS_ACTIVE_KEY, ...live);
    }
    return added;
  }

  /** After a script that answered `revived` = 1 (see revive() in _lib.lua). */
  private async reactivateIf(revived: unknown, dropId: string): Promise<void> {
    if (Number(revived) === 1) await this.redis.sadd(DROPS_ACTIVE_KEY, dropId);
  }

  /** The brand that owns a drop (fixed at creation), or undefined when Redis has no such drop. */
  async ownerOf(dropId: string): Promise<string | undefined> {
    const [id, brandId] = await this.redis.hmget(dropKeys(dropId).drop, 'id', 'brandId');
    return id === null ? undefined : (brandId ?? '');
  }

  /** A few fields of every indexed drop, as mirrored (for pickers: no clock, no script). */
  async dropSummaries(): Promise<DropSummary[]> {
    const ids = await this.dropIds();
    // One command per drop, not one pipeline: each drop is in a slot of its own on a Redis
    // Cluster, and auto-pipelining still sends them together, one write per node.
    const rows = await Promise.all(
      ids.map((id) =>
        this.redis.hmget(
          dropKeys(id).drop,
          'title',
          'brandId',
          'quantity',
          'createdAt',
          'saleStartsAt',
          'allocation',
        ),
      ),
    );
    const num = (v: string | null | undefined) => (v ? Number(v) : undefined);
    return ids.map((id, i) => {
      const [title, brandId, quantity, createdAt, saleStartsAt, allocation] = rows[i];
      return {
        id,
        title: title ?? undefined,
        brandId: brandId ?? undefined,
        quantity: num(quantity),
        createdAt: num(createdAt),
        saleStartsAt: num(saleStartsAt),
        allocation: allocation === 'draw' ? 'draw' : 'first_come',
      };
    });
  }

  /** Everything the audit recomputes a drop's invariants from (undefined: not mirrored). */
  storedSale(dropId: string): Promise<StoredSale | undefined> {
    return readStoredSale(this.redis, dropId);
  }

  /** When each fan reserved the drop (epoch ms; undefined for a fan who did not). */
  reservedAt(drop: DropDefinition, fanIds: readonly string[]): Promise<(number | undefined)[]> {
    return readReservedAt(this.redis, drop, fanIds);
  }

  /** Which of `fanIds` are in the drop's share record (share.lua), in their order. */
  async sharedBy(dropId: string, fanIds: readonly string[]): Promise<boolean[]> {
    if (fanIds.length === 0) return [];
    const found = await this.redis.smismember(dropKeys(dropId).sharers, ...fanIds);
    return found.map((n) => n === 1);
  }

  async counters(dropId: string): Promise<DropCounters> {
    const k = dropKeys(dropId);
    const [h, waitlisted, entrants] = await Promise.all([
      this.redis.hgetall(k.stats),
      this.redis.zcard(k.waitlist),
      this.redis.hget(k.draw, 'entrants'),
    ]);
    const n = (f: string) => Number(h[f] ?? 0);
    const rejections: Record<string, number> = {};
    for (const [f, v] of Object.entries(h)) {
      if (f.startsWith('rej:')) rejections[f.slice(4)] = Number(v);
    }
    return {
      held: n('held'),
      paid: n('paid'),
      expired: n('expired'),
      cancelled: n('cancelled'),
      refunded: n('refunded'),
      grabAttempts: n('attempts'),
      rejections,
      shares: n('shares'),
      referrals: n('referrals'),
      reservationsPending: n('resPending'),
      revenueMinor: n('revenueMinor'),
      discountsMinor: n('discountsMinor'),
      referralRewardsMinor: n('referralRewardsMinor'),
      entrants: Number(entrants ?? 0),
      winners: n('winners'),
      waitlisted,
      backfilled: n('backfilled'),
      firstSaleAt: h.firstSaleAt ? Number(h.firstSaleAt) : undefined,
      soldOutAt: h.soldOutAt ? Number(h.soldOutAt) : undefined,
    };
  }

  // ---- fans -----------------------------------------------------------------------------

  /** `tier`: the fan's membership tier (their token's), checked against a members-only drop. */
  async reserve(
    dropId: string,
    fanId: string,
    referrerId?: string,
    tier?: string,
  ): Promise<Outcome<Reservation>> {
    const k = dropKeys(dropId);
    const r = await this.run(
      'reserve',
      [k.drop, k.reservations, k.events, k.stats, k.referrers],
      [fanId, referrerId ?? '', tier ?? ''],
    );
    if (r[0] === 'ERR') return refusal(r);
    return {
      ok: true,
      value: { dropId, fanId, reservedAt: Number(r[1]), created: r[0] === 'CREATED' },
    };
  }

  async isReserved(dropId: string, fanId: string): Promise<boolean> {
    return (await this.redis.hexists(dropKeys(dropId).reservations, fanId)) === 1;
  }

  /**
   * POST /v1/drops/:id/waitlist (join_waitlist.lua): queues a fan on a sold-out first-come
   * drop; a fan already in line gets their place again (`created: false`).
   */
  async joinWaitlist(
    dropId: string,
    fanId: string,
    tier?: string,
  ): Promise<Outcome<WaitlistPlace>> {
    const k = dropKeys(dropId);
    const r = await this.run(
      'join_waitlist',
      [k.drop, k.stock, k.reservations, k.waitlist, k.events, k.stats],
      [fanId, tier ?? ''],
    );
    if (r[0] === 'ERR') return refusal(r);
    return { ok: true, value: { position: Number(r[1]), created: r[0] === 'CREATED' } };
  }

  /** Where a fan stands in a drop, in one read (standing.lua); undefined for an unknown drop. */
  async standing(dropId: string, fanId: string): Promise<FanStanding | undefined> {
    const k = dropKeys(dropId);
    const r = await this.run(
      'standing',
      [k.drop, k.reservations, k.waitlist, k.holds, k.fanOrders(fanId), k.stats, k.parked, k.draw],
      [fanId],
    );
    if (r[0] !== 'OK') return undefined;
    const place = Number(r[4]);
    return {
      now: Number(r[1]),
      allocation: r[2] === 'draw' ? 'draw' : 'first_come',
      reserved: r[3] === 1,
      waitlistPosition: place >= 0 ? place + 1 : undefined,
      drawnAt: r[5] === '' ? undefined : Number(r[5]),
      unitsPending: Number(r[6]),
      nextReleaseAt: r[7] === '' ? undefined : Number(r[7]),
      orders: r
        .slice(8)
        .map((flat) => parseOrder(record(flat as Reply, 0)))
        .sort((a, b) => b.createdAt - a.createdAt),
    };
  }

  /**
   * Calls `changed(dropId, fanId)` for every standing change the scripts announce (a hold
   * passed down, a draw's result; `fanId` undefined: every fan of the drop), on a connection of
   * its own (a subscriber can run nothing else).
   */
  static listenForStanding(
    subscriber: RedisClient,
    changed: (dropId: string, fanId: string | undefined) => void,
  ): Promise<unknown> {
    subscriber.on('message', (channel: string, message: string) => {
      if (channel !== STANDING_CHANNEL) return;
      const space = message.indexOf(' ');
      if (space < 0) changed(message, undefined);
      else changed(message.slice(0, space), message.slice(space + 1));
    });
    return subscriber.subscribe(STANDING_CHANNEL);
  }

  /**
   * Counts a share; answers the channel it was counted under (see SHARE_CHANNELS_PER_DROP). The
   * share's own id lets a re-sent call count once (share.lua). The fan joins the drop's share
   * record (once however often they share), which the steps that make holds read for the
   * share discount.
   */
  async share(dropId: string, fanId: string, channel: string): Promise<Outcome<string>> {
    const k = dropKeys(dropId);
    const shareId = randomBytes(8).toString('hex');
    const r = await this.run(
      'share',
      [k.drop, k.events, k.stats, k.receipt(shareId), k.shareChannels, k.sharers],
      [fanId, channel, SHARE_CHANNELS_PER_DROP, OTHER_SHARE_CHANNEL],
    );
    if (r[0] !== 'OK') return refusal(r);
    await this.reactivateIf(r[2], dropId);
    return { ok: true, value: String(r[1]) };
  }

  /**
   * The grab: one script, one round trip (grab.lua). Refusals are returned, not thrown: the
   * hot path should not pay for building exceptions. `orderId`: the new order's id, chosen by
   * the bucketed grab (buckets.ts) that records its tokens under it.
   */
  async grab(req: GrabRequest, orderId = newOrderId(req.dropId)): Promise<GrabOutcome> {
    const k = dropKeys(req.dropId);
    const r = await this.run(
      'grab',
      [
        k.drop,
        k.stock,
        k.reservations,
        k.fans,
        k.holds,
        k.events,
        k.stats,
        k.idempotency,
        k.order(orderId),
        k.fanOrders(req.fanId),
        k.sharers,
        k.referrers,
      ],
      [
        req.fanId,
        req.quantity,
        req.idempotencyKey ?? '',
        orderId,
        ORDERS_BEYOND_LIMIT,
        req.tier ?? '',
        req.groupId ?? '',
        newGroupId(),
      ],
    );
    const status = r[0];
    if (status === 'ERR' && r[1] === 'BAD_RECORD') {
      throw new BadRecordError('drop', req.dropId, 'the grab cannot compute with its fields');
    }
    if (status === 'OK' || status === 'REPLAY') {
      return { ok: true, order: parseOrder(record(r, 1)), replayed: status === 'REPLAY' };
    }
    if (r[1] === 'GROUP_BODY') {
      const field = String(r[2]);
      return {
        ok: false,
        code: 'VALIDATION_FAILED',
        details: [
          field === 'groupId'
            ? { field, message: 'this drop has no groups' }
            : { field, message: 'each member of a group holds one unit: quantity must be 1' },
        ],
      };
    }
    if (r[1] === 'NOT_FOUND' && r[2] === 'GROUP') {
      return {
        ok: false,
        code: 'NOT_FOUND',
        details: [{ field: 'groupId', message: 'no such group' }],
      };
    }
    if (r[1] === 'QUANTITY_OVER_LIMIT') {
      return {
        ok: false,
        code: 'VALIDATION_FAILED',
        details: [{ field: 'quantity', message: `quantity must be at most ${String(r[2])}` }],
      };
    }
    const refused = refusal(r);
    // A replayed refusal was counted the first time (a reused key is not a refusal of the sale
    // at all); an unknown drop has no counters.
    if (r[2] !== 'REPLAY' && refused.code !== 'NOT_FOUND') {
      this.refusals.record(req.dropId, refused.code);
    }
    return refused;
  }

  /**
   * count_reservations.lua: the drop's reservations without a referrer made since the last
   * count, announced as one reservation.counted event. `counted`: how many (0: nothing was
   * written); `open`: whether the drop can still take reservations. Safe to call from any
   * process at any time (the worker's ReservationCounter does, every 250 ms).
   */
  async countReservations(dropId: string): Promise<{ counted: number; open: boolean }> {
    const k = dropKeys(dropId);
    const r = await this.run('count_reservations', [k.drop, k.events, k.stats], []);
    return { counted: Number(r[1]), open: Number(r[2]) === 1 };
  }

  /** count_refusals.lua: one drop's refusals as counters and one grab.rejected per code. */
  private async countRefusals(
    dropId: string,
    batchId: string,
    counts: ReadonlyMap<ErrorCode, number>,
  ) {
    const k = dropKeys(dropId);
    const r = await this.run(
      'count_refusals',
      [k.drop, k.events, k.stats, k.receipt(batchId)],
      [...counts].flat(),
    );
    if (r[0] === 'ERR' && r[1] === 'BAD_RECORD')
      throw new Error(`refusal batch ${batchId} malformed`);
    if (r[0] === 'OK') await this.reactivateIf(r[1], dropId);
  }

  /** Writes the refusals counted so far; called on shutdown so a graceful stop loses none. */
  async beforeApplicationShutdown(): Promise<void> {
    await this.refusals.flush();
  }

  // ---- orders ---------------------------------------------------------------------------

  async getOrder(orderId: string): Promise<InventoryOrder | undefined> {
    const dropId = dropIdOfOrder(orderId);
    if (!dropId) return undefined;
    const h = await this.redis.hgetall(dropKeys(dropId).order(orderId));
    return h.id ? parseOrder(h) : undefined;
  }

  /**
   * The fan's orders in the active drops, newest first. A retired drop's orders are all final
   * and all in PostgreSQL (order persistence read every one of its events before it retired).
   */
  async ordersOfFan(fanId: string): Promise<InventoryOrder[]> {
    const drops = await this.activeDropIds();
    const lists = await Promise.all(
      drops.map((d) => this.redis.lrange(dropKeys(d).fanOrders(fanId), 0, -1)),
    );
    const ids = lists.flat();
    const orders = await Promise.all(ids.map((id) => this.getOrder(id)));
    return orders
      .filter((o): o is InventoryOrder => o !== undefined)
      .sort((a, b) => b.createdAt - a.createdAt);
  }

  /** held -> cancelled, units back at once. `fanId` limits it to that fan's orders. */
  async cancelOrder(orderId: string, fanId?: string): Promise<Outcome<InventoryOrder>> {
    return this.transition('cancel_order', orderId, [fanId ?? '']);
  }

  /**
   * held -> paying (the fence before a debit). `fanId` limits it to that fan's orders. An
   * `idempotencyKey` is bound to this order in the same atomic step (scoped to the fan and the
   * drop): bound already to another order, or to a grab, it is IDEMPOTENCY_KEY_REUSED.
   */
  async beginPayment(
    orderId: string,
    options: { fanId?: string; payingTtlMs?: number; idempotencyKey?: string } = {},
  ): Promise<Outcome<InventoryOrder>> {
    return this.transition('begin_payment', orderId, [
      options.fanId ?? '',
      options.payingTtlMs ?? DEFAULT_PAYING_TTL_MS,
      options.idempotencyKey ?? '',
    ]);
  }

  /** paying -> paid after a debit; idempotent on paid. */
  async completePayment(orderId: string): Promise<Outcome<InventoryOrder>> {
    return this.transition('complete_payment', orderId, []);
  }

  /**
   * paying -> held (before expiresAt) or -> expired (after; units back once), for the attempt
   * named by `attempt` (the payingUntil that begin_payment gave it): a `paying` order of another
   * attempt is left as it is.
   */
  async abortPayment(orderId: string, attempt: number): Promise<Outcome<InventoryOrder>> {
    return this.transition('abort_payment', orderId, [attempt]);
  }

  /**
   * paid -> refunding (begin_refund.lua): the fence before the wallet's refund. `joined`: a
   * refund was already under way; `repeat`: the order is refunded already (nothing moves).
   */
  async beginRefund(
    orderId: string,
    reason: string,
  ): Promise<Outcome<{ order: InventoryOrder; joined: boolean; repeat: boolean }>> {
    const dropId = dropIdOfOrder(orderId);
    if (!dropId) return { ok: false, code: 'NOT_FOUND' };
    const k = dropKeys(dropId);
    const r = await this.run(
      'begin_refund',
      [k.order(orderId), k.refunding, k.drop, k.events],
      [reason],
    );
    if (r[0] === 'ERR') {
      const order = r.length > 2 ? parseOrder(record(r, 2)) : undefined;
      return { ok: false, code: codeOf(r[1]), order };
    }
    await this.reactivateIf(r[1], dropId);
    return {
      ok: true,
      value: {
        order: parseOrder(record(r, 2)),
        joined: r[0] === 'REFUNDING',
        repeat: r[0] === 'REFUNDED',
      },
    };
  }

  /** refunding -> refunded after the wallet's refund; the unit goes down the line. Idempotent. */
  async completeRefund(orderId: string): Promise<Outcome<InventoryOrder>> {
    const dropId = dropIdOfOrder(orderId);
    if (!dropId) return { ok: false, code: 'NOT_FOUND' };
    const k = dropKeys(dropId);
    const r = await this.run(
      'complete_refund',
      [k.order(orderId), ...saleKeys(dropId), k.refunding],
      [],
    );
    if (r[0] === 'OK') {
      await this.reactivateIf(r[1], dropId);
      return { ok: true, value: parseOrder(record(r, 2)) };
    }
    if (r[1] === 'BAD_RECORD') {
      throw new BadRecordError('order', orderId, 'the refund cannot compute with its fields');
    }
    const order = r.length > 2 ? parseOrder(record(r, 2)) : undefined;
    return { ok: false, code: codeOf(r[1]), order };
  }

  /**
   * refunding -> paid (abort_refund.lua) for the attempt the wallet declined (`attempt`: the
   * refundingSince begin_refund gave it); any other state or attempt is left as it is.
   * `aborted`: whether this call put the order back to paid.
   */
  async abortRefund(
    orderId: string,
    attempt: number,
  ): Promise<Outcome<{ order: InventoryOrder; aborted: boolean }>> {
    const dropId = dropIdOfOrder(orderId);
    if (!dropId) return { ok: false, code: 'NOT_FOUND' };
    const k = dropKeys(dropId);
    const r = await this.run('abort_refund', [k.order(orderId), k.refunding, k.events], [attempt]);
    if (r[0] !== 'OK') return { ok: false, code: codeOf(r[1]) };
    return { ok: true, value: { order: parseOrder(record(r, 2)), aborted: Number(r[1]) === 1 } };
  }

  // ---- group buy (README "Group buy") ----------------------------------------------------

  /** One group as Redis holds it, or undefined. */
  async group(dropId: string, groupId: string): Promise<InventoryGroup | undefined> {
    const h = await this.redis.hgetall(dropKeys(dropId).group(groupId));
    return h.id ? parseGroup(h) : undefined;
  }

  /** The member order ids of a group (every order that ever joined it). */
  async groupMembers(dropId: string, groupId: string): Promise<string[]> {
    return this.redis.smembers(dropKeys(dropId).groupMembers(groupId));
  }

  /**
   * The drop's unfinished groups (open, completing, failing) whose deadline is at or before
   * `before` (Infinity: all), earliest first, at most `limit`: the group sweeper's work.
   */
  async unfinishedGroups(dropId: string, before: number, limit: number): Promise<string[]> {
    const max = Number.isFinite(before) ? before : '+inf';
    return this.redis.zrangebyscore(dropKeys(dropId).groups, '-inf', max, 'LIMIT', 0, limit);
  }

  /** finish_group.lua: a completing group whose escrow was released -> every member paid. */
  async finishGroup(dropId: string, groupId: string): Promise<Outcome<void>> {
    const r = await this.run('finish_group', this.groupKeys(dropId, groupId), []);
    if (r[1] === 'BAD_RECORD')
      throw new BadRecordError('group', groupId, 'finish_group refused it');
    if (r[0] === 'OK') return { ok: true, value: undefined };
    return { ok: false, code: r[1] === 'NOT_FOUND' ? 'NOT_FOUND' : 'GROUP_CLOSED' };
  }

  /** fail_group.lua: at the deadline, open -> failing (holds expire); the members to refund. */
  async failGroup(dropId: string, groupId: string): Promise<GroupFailStep> {
    const r = await this.run('fail_group', this.groupKeys(dropId, groupId), []);
    if (r[0] === 'FAILING') {
      return { step: 'failing', paying: Number(r[1]), grouped: r.slice(2).map(String) };
    }
    if (r[0] === 'OPEN') return { step: 'open' };
    if (r[0] === 'DONE') return { step: 'done', status: String(r[1]) };
    if (r[1] === 'BAD_RECORD') throw new BadRecordError('group', groupId, 'fail_group refused it');
    return { step: 'done', status: 'missing' };
  }

  /**
   * settle_failed_group.lua: the members the wallet refunded -> refunded (units down the line);
   * the group failed once nothing is left to settle. `failed`: whether it is now.
   */
  async settleFailedGroup(
    dropId: string,
    groupId: string,
    refunded: readonly string[],
  ): Promise<{ failed: boolean }> {
    const r = await this.run('settle_failed_group', this.groupKeys(dropId, groupId), [...refunded]);
    if (r[0] === 'OK') return { failed: r[1] === 'failed' };
    if (r[1] === 'BAD_RECORD') {
      throw new BadRecordError('group', groupId, 'settle_failed_group refused it');
    }
    throw new Error(`group ${groupId} is not failing: ${String(r[2] ?? r[1])}`);
  }

  private groupKeys(dropId: string, groupId: string): string[] {
    const k = dropKeys(dropId);
    return [k.group(groupId), k.groupMembers(groupId), ...saleKeys(dropId)];
  }

  /**
   * Refunds of a drop begun before `before` and not completed (for the refund recovery), each
   * with its attempt (the refundingSince begin_refund scored it with), earliest first.
   */
  async refundsUnderWay(
    dropId: string,
    before: number,
    limit: number,
  ): Promise<{ orderId: string; attempt: number }[]> {
    const flat = await this.redis.zrangebyscore(
      dropKeys(dropId).refunding,
      '-inf',
      before,
      'WITHSCORES',
      'LIMIT',
      0,
      limit,
    );
    const under: { orderId: string; attempt: number }[] = [];
    for (let i = 0; i < flat.length; i += 2) {
      under.push({ orderId: flat[i], attempt: Number(flat[i + 1]) });
    }
    return under;
  }

  /** The sweeper's step for one drop: expires due holds (bounded batch). */
  async expireDue(dropId: string, batch = 500, stalePayingRecheckMs = 5000): Promise<ExpirySweep> {
    const r = await this.run('expire_due', saleKeys(dropId), [batch, stalePayingRecheckMs]);
    const stale = 4 + Number(r[3]);
    return {
      expiredOrders: Number(r[0]),
      unitsReturned: Number(r[1]),
      scanned: Number(r[2]),
      stalePaying: r.slice(4, stale).map(String),
      badRecords: r.slice(stale).map(String),
    };
  }

  /**
   * Orders of a drop still `paying` after their payingUntil, among those whose hold deadline is
   * within `lookaheadMs` of `now` (expire_due keeps a stale one ~5 s ahead): for the payment
   * recovery to settle. At most `limit`.
   */
  async stalePaying(dropId: string, now: number, lookaheadMs: number, limit: number) {
    const k = dropKeys(dropId);
    const due = await this.redis.zrangebyscore(
      k.holds,
      '-inf',
      now + lookaheadMs,
      'LIMIT',
      0,
      limit,
    );
    if (due.length === 0) return [];
    const pipeline = this.redis.pipeline();
    for (const id of due) pipeline.hmget(k.order(id), 'status', 'payingUntil');
    const rows = (await pipeline.exec()) ?? [];
    return due.filter((_, i) => {
      const [status, payingUntil] = (rows[i]?.[1] ?? []) as (string | null)[];
      return status === 'paying' && payingUntil !== null && Number(payingUntil) <= now;
    });
  }

  /** The id of the last entry of a drop's outbox: it moves with every change of the sale. */
  async lastEventId(dropId: string): Promise<string | undefined> {
    const last = await this.redis.xrevrange(dropKeys(dropId).events, '+', '-', 'COUNT', 1);
    return last[0]?.[0];
  }

  /** The earliest hold deadline of a drop (epoch ms), or undefined when nothing is held. */
  async nextDeadline(dropId: string): Promise<number | undefined> {
    const first = await this.redis.zrange(dropKeys(dropId).holds, 0, 0, 'WITHSCORES');
    return first.length === 2 ? Number(first[1]) : undefined;
  }

  /** Redis TIME in epoch ms: the sale clock. */
  async now(): Promise<number> {
    const [s, us] = await this.redis.time();
    return Number(s) * 1000 + Math.floor(Number(us) / 1000);
  }

  // ---- internals ------------------------------------------------------------------------

  private async transition(
    name: 'cancel_order' | 'begin_payment' | 'complete_payment' | 'abort_payment',
    orderId: string,
    args: Arg[],
  ): Promise<Outcome<InventoryOrder>> {
    const dropId = dropIdOfOrder(orderId);
    if (!dropId) return { ok: false, code: 'NOT_FOUND' };
    const keys = [dropKeys(dropId).order(orderId), ...saleKeys(dropId)];
    if (name === 'begin_payment') keys.push(dropKeys(dropId).idempotency);
    const r = await this.run(name, keys, args);
    if (r[0] === 'OK') return { ok: true, value: parseOrder(record(r, 1)) };
    if (r[1] === 'BAD_RECORD') throw new BadRecordError('order', orderId, `${name} refused it`);
    const order = r.length > 2 ? parseOrder(record(r, 2)) : undefined;
    return { ok: false, code: codeOf(r[1]), order };
  }

  private async mirror(def: DropDefinition, mode: 'create' | 'restore', stock?: number) {
    const k = dropKeys(def.id);
    const r = await this.run(
      'mirror_drop',
      [k.drop, k.stock, k.events],
      [mode, stock ?? '', ...fields(def, mode)],
    );
    if (r[0] === 'ERR' && r[1] === 'BAD_RECORD') {
      throw new BadRecordError('drop', def.id, `mirror_drop ${mode} refused its definition`);
    }
    return unit(r);
  }

  private async run(name: ScriptName, keys: Arg[], args: Arg[]): Promise<Reply> {
    const reply = await this.scripts[name](...keys, ...args);
    if (!Array.isArray(reply)) throw new Error(`${name}: unexpected reply ${String(reply)}`);
    if (this.replication.replicas > 0 && reply[0] !== 'ERR' && ANSWERED_STEPS.has(name)) {
      await this.confirmReplicated(String(keys[0]));
    }
    return reply;
  }

  /**
   * With REDIS_WAIT_REPLICAS: a step a fan is answered for (a hold, a reservation, a payment
   * step) is answered only once that many replicas of its primary have it, so a failover to
   * one of them cannot lose what was acknowledged. A replay waits too: the first answer's write
   * may still be on its way. Too few in time: the step is done but not confirmed, so the
   * caller gets 503 and a retry with the same key gets its answer (and waits again).
   */
  private async confirmReplicated(key: string): Promise<void> {
    const { replicas, timeoutMs } = this.replication;
    const confirmed = await waitForReplicas(this.redis, key, replicas, timeoutMs);
    if (confirmed < replicas) throw DomainError.atCapacity('replication', 1);
  }
}

/**
 * The keys of one drop that every script which may release units takes (_lib.lua sale_keys),
 * in that order: a release hands units down the waitlist in the same step.
 */
export function saleKeys(dropId: string): string[] {
  const k = dropKeys(dropId);
  return [k.drop, k.stock, k.fans, k.holds, k.events, k.stats, k.waitlist, k.parked];
}

/** The public shape of an order: `paying` is still `held` to the fan. */
export function toPublicOrder(o: InventoryOrder): Order {
  const base = {
    id: o.id,
    dropId: o.dropId,
    fanId: o.fanId,
    quantity: o.quantity,
    amountMinor: o.amountMinor,
    unitPriceMinor: o.unitPriceMinor,
    discountMinor: o.discountMinor,
    currency: o.currency,
    status: publicStatus(o.status),
    createdAt: new Date(o.createdAt).toISOString(),
    expiresAt: new Date(o.expiresAt).toISOString(),
  } as const;
  const paid =
    o.paidAt === undefined ? base : { ...base, paidAt: new Date(o.paidAt).toISOString() };
  const refunded =
    o.refundedAt === undefined
      ? paid
      : { ...paid, refundedAt: new Date(o.refundedAt).toISOString() };
  return o.groupId === undefined ? refunded : { ...refunded, groupId: o.groupId };
}

/** The fan sees the fences' states as the states they came from. */
function publicStatus(status: InventoryOrder['status']): Order['status'] {
  if (status === 'paying') return 'held';
  if (status === 'refunding') return 'paid';
  return status;
}

/** A refusal as the DomainError the one exception filter turns into the contract's body. */
export function refusalError(r: Refusal): DomainError {
  return new DomainError(r.code, ErrorMessages[r.code], r.details);
}

/**
 * A refusal straight as the contract's error body, the same as `refusalError(r).toBody()`
 * without building an Error: capturing a stack trace per refusal was ~1.6% of the API's CPU in a
 * rush, where most answers are SOLD_OUT (load-tests/README.md). For the grab's hot path.
 */
export function refusalBody(r: Refusal): ErrorBody {
  const message = ErrorMessages[r.code];
  return r.details ? { error: r.code, message, details: r.details } : { error: r.code, message };
}

function codeOf(value: unknown): ErrorCode {
  if (isErrorCode(value)) return value;
  throw new Error(`inventory: unknown script answer ${String(value)}`);
}

function refusal(r: Reply): Refusal {
  return { ok: false, code: codeOf(r[1]) };
}

function unit(r: Reply): Outcome<void> {
  return r[0] === 'OK' ? { ok: true, value: undefined } : refusal(r);
}

function record(r: Reply, from: number): Record<string, string> {
  const out: Record<string, string> = {};
  for (let i = from; i + 1 < r.length; i += 2) out[String(r[i])] = String(r[i + 1]);
  return out;
}

function fields(def: DropDefinition, mode: 'create' | 'restore' | 'sync'): Arg[] {
  const kv: Arg[] = [
    'id',
    def.id,
    'brandId',
    def.brandId,
    'title',
    def.title,
    'sku',
    def.sku,
    'priceMinor',
    def.priceMinor,
    'currency',
    def.currency,
    'quantity',
    def.quantity,
    'perUserLimit',
    def.perUserLimit,
    'reservationRequired',
    def.reservationRequired ? '1' : '0',
    'reservationOpensAt',
    def.reservationOpensAt ?? '',
    'reservationClosesAt',
    def.reservationClosesAt ?? '',
    'saleStartsAt',
    def.saleStartsAt,
    'saleEndsAt',
    def.saleEndsAt ?? '',
    'holdSeconds',
    def.holdSeconds,
    'allocation',
    def.allocation,
    'audienceTier',
    def.audienceTier ?? '',
    'shareDiscountMinor',
    def.shareDiscountMinor ?? 0,
    'stockBuckets',
    def.stockBuckets ?? 1,
    'referralRewardMinor',
    def.referralRewardMinor ?? 0,
    'groupSize',
    def.groupSize ?? '',
    'groupSeconds',
    def.groupSize === undefined ? '' : (def.groupSeconds ?? DEFAULT_GROUP_SECONDS),
    'version',
    def.version,
    'createdAt',
    def.createdAt,
  ];
  // paused and cancelled are decided in Redis (set_paused, cancel_drop): a sync of the
  // definition never overwrites them.
  if (mode !== 'sync')
    kv.push('paused', def.paused ? '1' : '0', 'cancelled', def.cancelled ? '1' : '0');
  return kv;
}
