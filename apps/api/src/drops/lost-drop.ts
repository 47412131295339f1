import { shuffle, winnersCount } from '@flashdrop/fair';
import {
  DEFAULT_GROUP_SECONDS,
  DropDefinition,
  InventoryOrder,
  RebuiltGroup,
  RebuiltStanding,
} from '@flashdrop/inventory';
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
 * - the share record: every fan with an order priced with the share discount had shared.
 * - referrers: an order paying a reward names its fan's referrer (the reservation's).
 * - group buy's groups, from their member orders (`groupBuyGroups`).
 * What nothing stored proves is named in `lost`, for the audit and the log: the reservations of
 * fans without an order (unless the draw froze them), a first-come drop's line, a committed but
 * undrawn draw's seed (secret, in Redis only until the draw: that draw can never have its one
 * result, and the drop is paused for an operator to cancel it), the shares of fans whose orders
 * do not prove one (they may share again), the referrers of fans no rewarded order names (a
 * drop that pays rewards), groups whose member orders were stored before orders kept their
 * group.
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
  const sharers = new Set(drop.orders.filter((o) => o.discountMinor > 0).map((o) => o.fanId));
  if ((def.shareDiscountMinor ?? 0) > 0) lost.push('shares');
  const referrers = new Map<string, string>();
  for (const o of drop.orders) if (o.referrerId) referrers.set(o.fanId, o.referrerId);
  // A fan with an order is known: each of their holds took the reservation's referrer, if any.
  // Unknown: the referrers of reservations without an order (lost, a draw's entrants not yet
  // served, or a drop where reserving is optional), once the drop pays rewards.
  const ordered = new Set(drop.orders.map((o) => o.fanId));
  const unservedEntrants = (drop.entrants ?? []).some((fan) => !ordered.has(fan));
  const referrersUnknown = takesReservations
    ? lost.includes('reservations') || unservedEntrants
    : true;
  if ((def.referralRewardMinor ?? 0) > 0 && referrersUnknown) lost.push('referrers');
  const groups = groupBuyGroups(def, drop.orders, drop.now);
  if (groups === undefined) lost.push('groups');
  const saleOver = def.cancelled || (def.saleEndsAt !== undefined && drop.now >= def.saleEndsAt);
  // Before the window closes, a fan whose reservation was lost can still reserve again.
  const reservationsGoneForGood = lost.includes('reservations') && drop.now >= closesAt;
  // A lost referrer comes back only with a reservation made again, while the drop takes them (a
  // drop without a window: until its sale ends); a draw's entrant has their reservation back
  // already, without the referrer, so theirs is gone for good.
  const reservingUntil = def.reservationClosesAt ?? def.saleEndsAt ?? Infinity;
  const referrersGoneForGood =
    lost.includes('referrers') && (drop.now >= reservingUntil || unservedEntrants);
  // Groups that cannot be rebuilt hold fans' money in the escrow that nothing would settle.
  const pause =
    !saleOver &&
    (lost.includes('draw seed') ||
      reservationsGoneForGood ||
      referrersGoneForGood ||
      groups === undefined);
  return {
    standing: {
      reservedFans: [...reserved],
      reservedAtOffsetMs: Math.max(0, closesAt - 1 - def.createdAt),
      ...(draw ? { draw } : {}),
      waitlist,
      sharers: [...sharers],
      referrers: [...referrers].map(([fanId, referrerId]) => ({ fanId, referrerId })),
      groups: groups ?? [],
      lost,
      rebuiltAt: drop.now,
    },
    pause,
  };
}

/**
 * Units an order holds for its fan (its group's seat): held, paying, grouped, paid, or paid with
 * a refund under way (refunding: complete_refund frees them).
 */
const LIVE = new Set<InventoryOrder['status']>(['held', 'paying', 'grouped', 'paid', 'refunding']);
/** Members whose money the group took: into the escrow, or paid out of it. */
const PAID_IN = new Set<InventoryOrder['status']>(['grouped', 'paid', 'refunding']);

/**
 * A group-buy drop's groups, as their member orders prove them (undefined when they cannot:
 * a member order stored without its group, or grouped without when; _lib.lua start_group,
 * complete_payment, finish_group and settle_failed_group say how a group moves):
 * - started with its first member (the earliest order naming it), deadline groupSeconds later;
 * - members: orders held, paying, grouped, paid or refunding; paidMembers: grouped, paid or
 *   refunding;
 * - complete when a member was paid (finish_group pays every member at once), at the last
 *   paidAt; completing when every seat was paid into the escrow before the deadline (the
 *   payer's finish_group may not have run: the group sweeper finishes it); failed when past
 *   its deadline with nothing held or in the escrow (settle_failed_group refunded it all);
 *   else open, even past its deadline, where the group sweeper fails it as it would have.
 */
export function groupBuyGroups(
  def: DropDefinition,
  orders: readonly InventoryOrder[],
  now: number,
): RebuiltGroup[] | undefined {
  if (def.groupSize === undefined) return [];
  const seconds = def.groupSeconds ?? DEFAULT_GROUP_SECONDS;
  const byGroup = new Map<string, InventoryOrder[]>();
  for (const o of orders) {
    if (o.groupId === undefined || (o.status === 'grouped' && o.groupedAt === undefined)) {
      return undefined;
    }
    byGroup.set(o.groupId, [...(byGroup.get(o.groupId) ?? []), o]);
  }
  return [...byGroup].map(([id, members]) => {
    const startedAt = Math.min(...members.map((o) => o.createdAt));
    const expiresAt = startedAt + seconds * 1000;
    const live = members.filter((o) => LIVE.has(o.status));
    const inEscrow = live.filter((o) => o.status === 'grouped');
    const paidAt = members.flatMap((o) => (o.paidAt === undefined ? [] : [o.paidAt]));
    const lastGroupedAt = Math.max(...inEscrow.map((o) => o.groupedAt ?? 0));
    let status: RebuiltGroup['status'] = 'open';
    let settledAt: number | undefined;
    if (paidAt.length > 0) {
      status = 'complete';
      settledAt = Math.max(...paidAt);
    } else if (inEscrow.length >= def.groupSize! && lastGroupedAt < expiresAt) {
      status = 'completing';
      settledAt = lastGroupedAt;
    } else if (now >= expiresAt && live.length === 0) {
      status = 'failed';
      settledAt = expiresAt;
    }
    return {
      id,
      size: def.groupSize!,
      startedAt,
      expiresAt,
      status,
      members: live.length,
      paidMembers: live.filter((o) => PAID_IN.has(o.status)).length,
      ...(settledAt === undefined ? {} : { settledAt }),
      orderIds: members.map((o) => o.id),
    };
  });
}
