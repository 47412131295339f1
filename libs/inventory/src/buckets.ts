import { ErrorCode } from '@flashdrop/contracts';
import { LuaArg } from '@flashdrop/lua';
import { RedisClient } from '@flashdrop/persistence';
import { newOrderId } from './ids';
import { bucketKeys, dropKeys } from './keys';
import { ScriptName } from './lua-scripts';
import { DropDefinition, GrabOutcome, GrabRequest } from './types';

/**
 * A hot drop split into stock buckets (docs/scale.md "Buckets"): the drop's `stockBuckets`
 * setting, 1 (the one-script grab, unchanged) .. MAX_STOCK_BUCKETS, fixed at creation.
 *
 * The split is of admission, not of the sale's truth. Each bucket `{d:ID:b<k>}` (its own slot,
 * so on a cluster its own primary, in general) holds tokens, the drop's quantity split N ways.
 * A bucketed grab:
 *   1. takes its quantity of tokens from the fan's bucket (a stable hash of the fan id), or
 *      the next one when that is empty (bucket_take.lua, one bucket's slot, atomic);
 *   2. runs grab.lua, the one-script grab, in the drop's slot: every check (phase, per-fan
 *      limit, idempotency) and the stock decrement happen there, in one atomic step, exactly
 *      as for a drop of one bucket;
 *   3. settles the tokens (bucket_settle.lua): spent when the grab made its hold or the drop
 *      had no stock, returned to the bucket for any other answer.
 * What must stay true, and why it does:
 *   - No unit sold twice, and the per-fan limit: both are grab.lua's checks on the drop's own
 *     keys, which no bucket touches. A token only lets a grab through to the drop.
 *   - Stats, the allocation log, the outbox, the phase: the drop's, written by grab.lua, one
 *     per drop as before.
 *   - Sold out: once every bucket is empty, with no tokens in transit, a grab without an
 *     Idempotency-Key is answered SOLD_OUT by the buckets alone, without the drop's slot: that
 *     is the load buckets take off the drop's primary in a rush, where most answers are
 *     SOLD_OUT. While some grab holds tokens it may give back (it will be refused
 *     LIMIT_REACHED, say), a grab that found no token goes to the drop's slot tokenless and
 *     grab.lua decides on the stock, so no fan is told SOLD_OUT while a unit is left.
 *   - A crash between steps: tokens taken (and, maybe, a hold made) but not settled. They are
 *     recorded in the bucket's `taken` zset; `sweep` settles those older than
 *     STRANDED_AFTER_MS: spent if the order exists, returned if not.
 *   - A bucket Redis lost (on a cluster, its primary failed over before its replica had the
 *     tokens key; or one Redis lost everything and the drop was rebuilt): a missing tokens key
 *     sends grabs to the drop's stock, never to a SOLD_OUT answer, until `sweep` gives the
 *     bucket its key back and issues tokens for the stock (rebuildDrop runs it at once).
 *   - Units that come back (expiry, cancel, refund, a raised quantity) go to the drop's stock
 *     by the scripts that return them; `sweep` issues tokens for stock no token stands for.
 *     It reads the buckets before the stock, so a grab under way can only make it issue too
 *     few (made good next pass), never too many. Tokens beyond the stock (a drop rebuilt from
 *     PostgreSQL, a lowered quantity) are spent by the SOLD_OUT answers they lead to.
 */
export const MAX_STOCK_BUCKETS = 64;

/**
 * Tokens in transit longer than this are settled by the sweep. Far beyond a grab's two round
 * trips and the API's Redis deadline (REDIS_COMMAND_TIMEOUT_MS, 5 s): a grab still running then
 * could make its hold after the sweep returned its tokens, which costs a token, not a unit.
 */
export const STRANDED_AFTER_MS = 30_000;

/** How long a process skips a bucket it found empty: tokens come back only by the sweep. */
const EMPTY_FOR_MS = 100;

/** How many stranded entries one sweep settles per bucket (bounded steps). */
const SETTLE_BATCH = 500;

/** The fan's own bucket: FNV-1a of the fan id, so a fan always starts at the same bucket. */
export function bucketOf(fanId: string, buckets: number): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < fanId.length; i++) {
    h ^= fanId.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0) % buckets;
}

/** `units` split over `buckets` as evenly as whole units allow (the first ones get the rest). */
export function bucketShares(units: number, buckets: number): number[] {
  const base = Math.floor(units / buckets);
  const rest = units % buckets;
  return Array.from({ length: buckets }, (_, k) => base + (k < rest ? 1 : 0));
}

export interface BucketSweep {
  /** Stranded grabs whose order exists: their tokens were spent. */
  readonly spent: number;
  /** Stranded grabs with no order: their tokens went back to the bucket. */
  readonly returned: number;
  /** Tokens issued for stock no token stood for. */
  readonly issued: number;
}

export interface BucketTokens {
  /** Tokens left, per bucket. */
  readonly tokens: number[];
  /** Tokens taken and not settled, per bucket (units). */
  readonly inTransit: number[];
}

type RunScript = (name: ScriptName, keys: LuaArg[], args: LuaArg[]) => Promise<readonly unknown[]>;
type GrabInDrop = (req: GrabRequest, orderId: string) => Promise<GrabOutcome>;

/** The bucketed grab and its upkeep; one per Inventory (`Inventory.buckets`). */
export class StockBuckets {
  /** dropId -> its bucket count: fixed at creation, so it is read once per process. */
  private readonly counts = new Map<string, number>();
  /** dropId -> per bucket, until when this process skips it as empty (ms, this clock). */
  private readonly emptyUntil = new Map<string, number[]>();

  constructor(
    private readonly redis: RedisClient,
    private readonly run: RunScript,
    private readonly grabInDrop: GrabInDrop,
    private readonly recordRefusal: (dropId: string, code: ErrorCode) => void,
  ) {}

  /** The drop's bucket count (1: not split), or undefined when Redis has no such drop. */
  async countOf(dropId: string): Promise<number | undefined> {
    const known = this.counts.get(dropId);
    if (known !== undefined) return known;
    const [id, buckets] = await this.redis.hmget(dropKeys(dropId).drop, 'id', 'stockBuckets');
    if (id === null) return undefined;
    const count = Math.min(Math.max(Number(buckets ?? 1) || 1, 1), MAX_STOCK_BUCKETS);
    this.counts.set(dropId, count);
    return count;
  }

  /**
   * A new drop's tokens: its quantity split over its buckets. SET NX, so a retried creation
   * never adds tokens to a bucket that has some (or had, and gave them out).
   */
  async issue(def: DropDefinition): Promise<void> {
    const n = def.stockBuckets ?? 1;
    if (n <= 1) return;
    const shares = bucketShares(def.quantity, n);
    await Promise.all(
      shares.map((units, k) => this.redis.set(bucketKeys(def.id, k).tokens, units, 'NX')),
    );
  }

  /**
   * The grab of a drop with `buckets` > 1 (see the class comment). Refusals are returned, as
   * Inventory.grab does; an error (Redis down, its deadline) is thrown with the tokens left in
   * transit for the sweep, since the hold may or may not have been made.
   */
  async grab(req: GrabRequest, buckets: number): Promise<GrabOutcome> {
    const orderId = newOrderId(req.dropId);
    const bucket = await this.takeTokens(req, buckets, orderId);
    if (bucket === 'none') {
      this.recordRefusal(req.dropId, 'SOLD_OUT');
      return { ok: false, code: 'SOLD_OUT' };
    }
    // No token, but the drop's slot must answer: tokens in transit may come back, or a
    // repeated Idempotency-Key must get its first answer, which only the drop's slot knows.
    // A hold made so spends no token: one token then stands for no unit, and is spent by the
    // SOLD_OUT it leads to.
    if (bucket === 'ask-drop') return this.grabInDrop(req, orderId);
    const outcome = await this.grabInDrop(req, orderId);
    // Spent: this call's own order was made (also when it comes back as a REPLAY of this very
    // call, a re-sent script), or the drop had no stock. A replay of a key's first answer, an
    // order of an earlier call, took no stock: its tokens go back.
    const spent = outcome.ok ? outcome.order.id === orderId : outcome.code === 'SOLD_OUT';
    await this.settle(req.dropId, bucket, req.quantity, orderId, spent ? 'spent' : 'returned');
    return outcome;
  }

  /**
   * Step 1: the fan's bucket, then the others in turn. Answers the bucket that gave; 'none'
   * when every bucket is empty and none has tokens in transit (sold out, unless units come
   * back); 'ask-drop' when no bucket gave but the drop's slot must decide (tokens in transit,
   * buckets with fewer than asked, a bucket Redis lost, or an Idempotency-Key).
   */
  private async takeTokens(
    req: GrabRequest,
    buckets: number,
    orderId: string,
  ): Promise<number | 'none' | 'ask-drop'> {
    const empty = this.emptyOf(req.dropId, buckets);
    const start = bucketOf(req.fanId, buckets);
    // Some bucket has tokens in transit (they may come back) or fewer than asked (the drop
    // may still have the units, spread over buckets): then only the drop's stock can say.
    let undecided = false;
    for (let i = 0; i < buckets; i++) {
      const k = (start + i) % buckets;
      const now = Date.now();
      if (empty[k] > now) continue;
      const b = bucketKeys(req.dropId, k);
      const r = await this.run('bucket_take', [b.tokens, b.taken], [req.quantity, orderId]);
      if (Number(r[0]) === 1) return k;
      // Only a bucket with no token anywhere is skipped for a while; a bucket Redis lost says
      // nothing about the stock.
      if (Number(r[2]) > 0 || Number(r[1]) > 0 || Number(r[3]) === 1) undecided = true;
      else empty[k] = now + EMPTY_FOR_MS;
    }
    return undecided || req.idempotencyKey !== undefined ? 'ask-drop' : 'none';
  }

  private emptyOf(dropId: string, buckets: number): number[] {
    let empty = this.emptyUntil.get(dropId);
    if (empty === undefined) {
      empty = new Array<number>(buckets).fill(0);
      this.emptyUntil.set(dropId, empty);
    }
    return empty;
  }

  private async settle(
    dropId: string,
    bucket: number,
    quantity: number,
    orderId: string,
    how: 'spent' | 'returned',
  ): Promise<boolean> {
    const b = bucketKeys(dropId, bucket);
    const r = await this.run('bucket_settle', [b.tokens, b.taken], [quantity, orderId, how]);
    const settled = Number(r[0]) === 1;
    // Tokens back in this bucket: this process need not skip it any longer.
    const empty = this.emptyUntil.get(dropId);
    if (how === 'returned' && settled && empty !== undefined) empty[bucket] = 0;
    return settled;
  }

  /**
   * The upkeep of one bucketed drop (the worker's hold sweeper runs it each pass): settles
   * tokens stranded longer than `strandedAfterMs` (their grab's process died between steps),
   * then issues tokens for stock that no token stands for (units that came back).
   */
  async sweep(
    dropId: string,
    buckets: number,
    strandedAfterMs = STRANDED_AFTER_MS,
  ): Promise<BucketSweep> {
    const [s, us] = await this.redis.time();
    const before = Number(s) * 1000 + Math.floor(Number(us) / 1000) - strandedAfterMs;
    let spent = 0;
    let returned = 0;
    await Promise.all(
      Array.from({ length: buckets }, async (_, k) => {
        const b = bucketKeys(dropId, k);
        const stranded = await this.redis.zrangebyscore(
          b.taken,
          '-inf',
          before,
          'LIMIT',
          0,
          SETTLE_BATCH,
        );
        for (const entry of stranded) {
          const [quantity, orderId] = splitEntry(entry);
          // The order's existence decides: grab.lua either made it or, after this long,
          // will not (see STRANDED_AFTER_MS for the grab that is slower still).
          const made = (await this.redis.exists(dropKeys(dropId).order(orderId))) === 1;
          const how = made ? 'spent' : 'returned';
          if (await this.settle(dropId, k, quantity, orderId, how)) {
            if (made) spent++;
            else returned++;
          }
        }
      }),
    );
    return { spent, returned, issued: await this.issueForStock(dropId, buckets) };
  }

  /**
   * Tokens for units in stock that no token stands for. The buckets are read first, the stock
   * last: a grab under way between the reads is then counted on the side of fewer tokens.
   * A bucket whose tokens key Redis lost gets it back (at 0, then its share of what is
   * missing), so the buckets can answer SOLD_OUT alone again.
   */
  private async issueForStock(dropId: string, buckets: number): Promise<number> {
    await Promise.all(
      Array.from({ length: buckets }, (_, k) =>
        this.redis.set(bucketKeys(dropId, k).tokens, 0, 'NX'),
      ),
    );
    const { tokens, inTransit } = await this.tokensOf(dropId, buckets);
    const stock = Number((await this.redis.get(dropKeys(dropId).stock)) ?? 0);
    const standing = [...tokens, ...inTransit].reduce((a, b) => a + Math.max(b, 0), 0);
    const missing = stock - standing;
    if (missing <= 0) return 0;
    const shares = bucketShares(missing, buckets);
    await Promise.all(
      shares.map((units, k) =>
        units > 0 ? this.redis.incrby(bucketKeys(dropId, k).tokens, units) : undefined,
      ),
    );
    return missing;
  }

  /** Every bucket's tokens, then every bucket's tokens in transit (two rounds, in that order). */
  async tokensOf(dropId: string, buckets: number): Promise<BucketTokens> {
    const range = Array.from({ length: buckets }, (_, k) => bucketKeys(dropId, k));
    const tokens = await Promise.all(
      range.map(async (b) => Number((await this.redis.get(b.tokens)) ?? 0)),
    );
    const inTransit = await Promise.all(
      range.map(async (b) =>
        (await this.redis.zrange(b.taken, 0, -1)).reduce((sum, e) => sum + splitEntry(e)[0], 0),
      ),
    );
    return { tokens, inTransit };
  }

  /** A retired drop's buckets: nothing of the sale needs them any more. */
  async forget(dropId: string, buckets: number): Promise<void> {
    await Promise.all(
      Array.from({ length: buckets }, (_, k) => {
        const b = bucketKeys(dropId, k);
        return Promise.all([this.redis.del(b.tokens), this.redis.del(b.taken)]);
      }),
    );
    this.counts.delete(dropId);
    this.emptyUntil.delete(dropId);
  }
}

function splitEntry(entry: string): [number, string] {
  const bar = entry.indexOf('|');
  return [Number(entry.slice(0, bar)), entry.slice(bar + 1)];
}
