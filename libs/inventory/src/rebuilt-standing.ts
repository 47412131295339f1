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
  /** What could not be rebuilt (named by the audit): e.g. 'reservations', 'waitlist', 'draw seed'. */
  readonly lost: readonly string[];
  /** When the rebuild ran (ms). */
  readonly rebuiltAt: number;
}

/** A drop rebuilt after Redis lost it, as its stats hash records it (the audit names it). */
export interface RebuildRecord {
  readonly at: number;
  readonly lost: readonly string[];
}
