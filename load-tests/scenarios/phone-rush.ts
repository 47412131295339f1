import type { ArrivalSpec, DropSpec, TargetSpec } from './scenario';

/**
 * The phone sale of Dec 2012 (docs/architecture.md): 50,000 units, 240,000 distinct reserved fans grabbing
 * at the sale's start instant, each once; the winners then pay from their wallets.
 * 2012: sold out in 5 min 14 s. Target here: seconds.
 */
export const phoneRush = {
  name: 'phone-rush',
  drop: {
    title: 'Phone, Dec 2012 replay',
    skuPrefix: 'PHONE',
    priceMinor: 199_900,
    currency: 'CNY',
    quantity: 50_000,
    perUserLimit: 1,
    reservationRequired: true,
    holdSeconds: 600,
  } satisfies DropSpec,
  /** Distinct fans, all reserved inside the window, each grabbing once at the start instant. */
  fans: 240_000,
  /** Everyone arrives at once: far above what any server takes, so the queue forms at the door. */
  arrival: { ratePerSecond: 60_000, maxInFlight: 100 } satisfies ArrivalSpec,
  /**
   * The latency target read at the throughput target: fans arriving at a steady rate of 0.6x
   * the floor's capacity measured in the same run (an open model: arrivals do not wait for
   * answers), with the phone's mix of winners (50,000 of 240,000) so most answers are SOLD_OUT.
   * The rush above is a closed loop at saturation: its p99 is queueing at the door, reported but
   * not held to a target.
   */
  steady: { floorShare: 0.6, seconds: 10, fallbackRate: 3_000, maxInFlight: 400 },
  /** How a grab is asked for (docs/api.md "Fans"). */
  grab: { method: 'POST', path: '/v1/drops/{dropId}/purchases', body: { quantity: 1 } },
  /** The only answers a correct rush gives; anything else is an error. */
  expectedGrabAnswers: { 201: 'held', 409: 'SOLD_OUT' } as Record<number, string>,
  targets: {
    grabRate: { label: 'grabs/s vs the floor', kind: 'min', value: 0.9, unit: 'x', ratio: true },
    sellOut: { label: 'sell-out vs the floor', kind: 'max', value: 1.1, unit: 'x', ratio: true },
    steadyP99: {
      label: "steady p99 vs the floor's",
      kind: 'max',
      value: 1.5,
      unit: 'x',
      ratio: true,
    },
    oversold: { label: 'units above stock', kind: 'max', value: 0, unit: '' },
    errors: { label: 'wrong answers', kind: 'max', value: 0, unit: '' },
  } satisfies Record<string, TargetSpec>,
  /**
   * k6 runs have no floor beside them, so their thresholds are loose absolute bounds that only
   * catch a broken stack; the targets above are for `npm run bench`.
   */
  k6Bounds: { grabP99Ms: 1_000 },
  /** The 2012 figure the report sets beside ours. */
  reference2012: { sellOutSeconds: 314 },
};

/** The same rush at another scale (CI smoke, naive peer), keeping the units-to-fans ratio. */
export function scalePhoneRush(factor: number): { quantity: number; fans: number } {
  return {
    quantity: Math.max(1, Math.round(phoneRush.drop.quantity * factor)),
    fans: Math.max(1, Math.round(phoneRush.fans * factor)),
  };
}
