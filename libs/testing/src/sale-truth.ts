import { Inventory } from '@flashdrop/inventory';

/**
 * The stored truth of a drop, read through the sale's own scripts and counters
 * (libs/inventory): what the stats route must equal once the pipeline drained.
 */
export interface SaleTruth {
  quantity: number;
  remaining: number;
  held: number;
  paid: number;
  expired: number;
  cancelled: number;
  reservations: number;
  entrants: number;
  winners: number;
  waitlisted: number;
  backfilled: number;
  shares: number;
  referrals: number;
  grabAttempts: number;
  rejections: Record<string, number>;
  revenueMinor: number;
  firstSaleAt: string | null;
  soldOutAt: string | null;
}

export async function readTruth(inventory: Inventory, dropId: string): Promise<SaleTruth> {
  const [state, c] = await Promise.all([inventory.viewDrop(dropId), inventory.counters(dropId)]);
  if (!state) throw new Error(`drop ${dropId} is not in Redis`);
  const iso = (ms?: number) => (ms ? new Date(ms).toISOString() : null);
  const rejections: Record<string, number> = {};
  // By code, as the stats route answers them.
  for (const code of Object.keys(c.rejections).sort()) {
    if (c.rejections[code] > 0) rejections[code] = c.rejections[code];
  }
  return {
    quantity: state.definition.quantity,
    remaining: state.remaining,
    held: c.held,
    paid: c.paid,
    expired: c.expired,
    cancelled: c.cancelled,
    reservations: state.reservations,
    entrants: c.entrants,
    winners: c.winners,
    waitlisted: c.waitlisted,
    backfilled: c.backfilled,
    shares: c.shares,
    referrals: c.referrals,
    grabAttempts: c.grabAttempts,
    rejections,
    revenueMinor: c.revenueMinor,
    firstSaleAt: iso(c.firstSaleAt),
    soldOutAt: iso(c.soldOutAt),
  };
}

/** The contract's fields of a stats answer, in the truth's order, to compare with it. */
export function contractFields(stats: object): SaleTruth {
  const s = stats as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(EMPTY)) out[k] = s[k];
  return out as unknown as SaleTruth;
}

const EMPTY: SaleTruth = {
  quantity: 0,
  remaining: 0,
  held: 0,
  paid: 0,
  expired: 0,
  cancelled: 0,
  reservations: 0,
  entrants: 0,
  winners: 0,
  waitlisted: 0,
  backfilled: 0,
  shares: 0,
  referrals: 0,
  grabAttempts: 0,
  rejections: {},
  revenueMinor: 0,
  firstSaleAt: null,
  soldOutAt: null,
};
