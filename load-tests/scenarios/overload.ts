import type { DropSpec } from './scenario';

/**
 * Overload (docs/bounds.md "Overload: admission control"): far more fans in flight than two
 * cores answer quickly. Once measured at 3,000 in flight: every fan was served, the median after
 * 4.4 s. The same overload runs twice, against an API process with the in-flight bound
 * (API_MAX_IN_FLIGHT, its default) and one without it (0): with the bound, the grabs it admits
 * should be answered at the speed the machine has and the rest at once with 503 and
 * Retry-After; without it, every fan waits. A closed loop: each connection is a fan in flight,
 * and a fan answered (served or shed) is followed at once by the next one.
 */
export const overload = {
  name: 'overload',
  drop: {
    title: 'Overload',
    skuPrefix: 'OVERLOAD',
    priceMinor: 9_900,
    currency: 'EUR',
    // Set by the runner to `fans`: every admitted grab is held, so no SOLD_OUT mixes in.
    quantity: 0,
    perUserLimit: 1,
    reservationRequired: false,
    holdSeconds: 600,
  } satisfies DropSpec,
  /** Fans in flight at once (connections). */
  inFlight: 3_000,
  /** Distinct fans, each grabbing once: four rounds of the fans in flight. */
  fans: 12_000,
  /** Each side's hard bound. */
  maxSeconds: 40,
  grab: { method: 'POST', path: '/v1/drops/{dropId}/purchases', body: { quantity: 1 } },
};
