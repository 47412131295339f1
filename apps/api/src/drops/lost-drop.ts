import { shuffle, winnersCount } from '@flashdrop/fair';
import { DropDefinition, InventoryOrder, RebuiltStanding } from '@flashdrop/inventory';
import type { PublishedDraw } from '@flashdrop/sales';

/** What `planRebuild` reads: a lost drop's stored truth (PostgreSQL) and Redis's clock. */
export interface LostDrop {
  readonly definition: DropDefinition;
  readonly orders: readonly InventoryOrder[];
  /** The published draw (sales.draws), if the draw was committed before the loss. */
  readonly draw?: PublishedDraw;
  /** Its frozen entrants (sales.draw_entrants), in published order. */
  readonly entrants?: readonly string[];
  readonly now: number;
}

export interface RebuildPlan {
  readonly standing: RebuiltStanding;
  /**
   * True when the drop must not reopen as it comes back: a fan could not get back by themselves
   * what the loss took (a reservation after the window closed, a committed draw without its
   * seed). The drop is rebuilt paused; an operator resumes it (accepting the loss) or cancels.
   */
  readonly pause: boolean;
}

/**
 * How a drop Redis lost comes back, beyond its orders (Inventory.rebuildDrop), from what
 * PostgreSQL proves:
 * - reservations: every fan with an order of a drop that takes reservations had reserved; a
 *   committed draw's entrants are exactly its reservations. Their time is not stored: they get
 *   the last instant of the window (`reservationClosesAt - 1 ms`), by which they had reserved.
 * - a committed draw: its record (commitment, entrants, digest, winners' count); once drawn,
 *   also its seed, drawnAt and both steps done, and its line recomputed (the published seed's
 *   shuffle of the published entrants: the losers by rank, less the fans with an order, who
 *   were served). Written only where Redis has no draw record, so a committed draw keeps its one
 *   commitment: without the record the draw runner would commit a second seed.
 * What nothing stored proves is named in `lost`, for the audit and the log: the reservations of
 * fans without an order (unless the draw froze them), a first-come drop's line, a committed but
 * undrawn draw's seed (secret, in Redis only until the draw: that draw can never have its one
 * result, and the drop is paused for an operator to cancel it).
 */
export function planRebuild(drop: LostDrop): RebuildPlan {
  const def = drop.definition;
  const takesReservations = def.reservationRequired || def.allocation === 'draw';
  const lost: string[] = [];
  const reserved = new Set<string>();
  if (takesReservations) {
    for (const o of drop.orders) reserved.add(o.fanId);
    if (drop.draw && drop.entrants) for (const fan of drop.entrants) reserved.add(fan);
    else lost.push('reservations');
  }
  const closesAt = def.reservationClosesAt ?? def.saleStartsAt;
  let draw: Record<string, string | number> | undefined;
  let waitlist: { fanId: string; place: number }[] = [];
  if (drop.draw) {
    const p = drop.draw;
    const winners = winnersCount(def.quantity, p.entrants);
    draw = {
      seedCommitment: p.seedCommitment,
      entrants: p.entrants,
      entrantsDigest: p.entrantsDigest,
      winners,
      committedAt: p.committedAt,
      waitApplied: 0,
      winApplied: 0,
    };
    if (p.drawnAt !== undefined && p.seed !== undefined && drop.entrants) {
      draw = {
        ...draw,
        seed: p.seed,
        drawnAt: p.drawnAt,
        waitApplied: p.entrants - winners,
        winApplied: winners,
      };
      waitlist = shuffle(drop.entrants, p.seed)
        .slice(winners)
        .map((fanId, i) => ({ fanId, place: winners + i }));
    } else {
      lost.push('draw seed');
    }
  } else if (def.allocation === 'first_come') {
    lost.push('waitlist');
  }
  const saleOver = def.cancelled || (def.saleEndsAt !== undefined && drop.now >= def.saleEndsAt);
  // Before the window closes, a fan whose reservation was lost can still reserve again.
  const reservationsGoneForGood = lost.includes('reservations') && drop.now >= closesAt;
  const pause = !saleOver && (lost.includes('draw seed') || reservationsGoneForGood);
  return {
    standing: {
      reservedFans: [...reserved],
      reservedAtOffsetMs: Math.max(0, closesAt - 1 - def.createdAt),
      ...(draw ? { draw } : {}),
      waitlist,
      lost,
      rebuiltAt: drop.now,
    },
    pause,
  };
}
