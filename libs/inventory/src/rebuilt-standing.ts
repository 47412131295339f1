/**
 * What a lost drop's fans stood on besides their orders, as the stored truth proves it
 * (Inventory.rebuildDrop, restore_standing.lua). Read by the caller from PostgreSQL: the orders
 * (sales.orders), the published draw and its entrants (sales.draws, sales.draw_entrants).
 */
export interface RebuiltStanding {
  /** Fans whose reservation is proven: an order of a drop that takes reservations, a draw's entrants. */
  readonly reservedFans: readonly string[];
  /** Their reservation time, as `{d:ID}:res` keeps it (ms since the drop's createdAt). */
  readonly reservedAtOffsetMs: number;
  /** The draw's record as `{d:ID}:draw` keeps it (field -> value), when one was published. */
  readonly draw?: Readonly<Record<string, string | number>>;
  /** A drawn draw's line: each loser's place (their rank); fans with an order are left out. */
  readonly waitlist: readonly { readonly fanId: string; readonly place: number }[];
  /** Fans whose share is proven (an order with the share discount): the share record `{d:ID}:sh`. */
  readonly sharers: readonly string[];
  /** A reservation's referrer, proven by an order that pays them a reward: `{d:ID}:ref`. */
  readonly referrers: readonly { readonly fanId: string; readonly referrerId: string }[];
  /** Group buy: every group the stored orders name, as its hash and member set had it. */
  readonly groups: readonly RebuiltGroup[];
  /** What could not be rebuilt (named by the audit): e.g. 'reservations', 'waitlist', 'draw seed'. */
  readonly lost: readonly string[];
  /** When the rebuild ran (ms). */
  readonly rebuiltAt: number;
}

/**
 * A group-buy group brought back from its member orders (libs/inventory `{d:ID}:g:<id>` and
 * `{d:ID}:gm:<id>`; _lib.lua start_group says what each field means).
 */
export interface RebuiltGroup {
  readonly id: string;
  readonly size: number;
  readonly startedAt: number;
  readonly expiresAt: number;
  /** open (also one past its deadline: the group sweeper fails it), completing, complete, failed. */
  readonly status: 'open' | 'completing' | 'complete' | 'failed';
  /** Member orders held, paying, grouped or paid; of them grouped or paid. */
  readonly members: number;
  readonly paidMembers: number;
  /** When it completed or failed (complete, failed), or began completing. */
  readonly settledAt?: number;
  /** Every order that ever joined it. */
  readonly orderIds: readonly string[];
}

/** A drop rebuilt after Redis lost it, as its stats hash records it (the audit names it). */
export interface RebuildRecord {
  readonly at: number;
  readonly lost: readonly string[];
}
