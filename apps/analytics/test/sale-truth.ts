import Redis from 'ioredis';

/**
 * The stored truth of a drop, read from the sale's own Redis keys (libs/inventory/README.md):
 * what the stats route must equal once the pipeline drained.
 */
export interface SaleTruth {
  quantity: number;
  remaining: number;
  held: number;
  paid: number;
  expired: number;
  cancelled: number;
  reservations: number;
  shares: number;
  referrals: number;
  grabAttempts: number;
  rejections: Record<string, number>;
  revenueMinor: number;
  firstSaleAt: string | null;
  soldOutAt: string | null;
}

export async function readTruth(redis: Redis, dropId: string): Promise<SaleTruth> {
  const tag = `{d:${dropId}}`;
  const [drop, stock, stats, reservations] = await Promise.all([
    redis.hgetall(`${tag}:drop`),
    redis.get(`${tag}:stock`),
    redis.hgetall(`${tag}:stats`),
    redis.hlen(`${tag}:res`),
  ]);
  const int = (field: string) => Number(stats[field] ?? 0);
  const rejections: Record<string, number> = {};
  for (const [k, v] of Object.entries(stats)) {
    if (k.startsWith('rej:') && Number(v) > 0) rejections[k.slice(4)] = Number(v);
  }
  const iso = (field: string) =>
    stats[field] ? new Date(Number(stats[field])).toISOString() : null;
  return {
    quantity: Number(drop.quantity ?? 0),
    remaining: Number(stock ?? 0),
    held: int('held'),
    paid: int('paid'),
    expired: int('expired'),
    cancelled: int('cancelled'),
    reservations,
    shares: int('shares'),
    referrals: int('referrals'),
    grabAttempts: int('attempts'),
    rejections,
    revenueMinor: int('revenueMinor'),
    firstSaleAt: iso('firstSaleAt'),
    soldOutAt: iso('soldOutAt'),
  };
}

/** The contract's fields of a stats answer, to compare with the truth. */
export function contractFields(stats: Record<string, unknown>): SaleTruth {
  const keys: (keyof SaleTruth)[] = [
    'quantity',
    'remaining',
    'held',
    'paid',
    'expired',
    'cancelled',
    'reservations',
    'shares',
    'referrals',
    'grabAttempts',
    'rejections',
    'revenueMinor',
    'firstSaleAt',
    'soldOutAt',
  ];
  const out: Record<string, unknown> = {};
  for (const k of keys) out[k] = stats[k];
  return out as unknown as SaleTruth;
}
