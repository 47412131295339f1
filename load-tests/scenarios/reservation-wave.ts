import type { ArrivalSpec, DropSpec, TargetSpec } from './scenario';

/**
 * The reservation wave of Dec 2012: 1,300,000 fans reserved the phone in a 38 h window
 * (docs/architecture.md). Here they come as fast as the stack takes them. `scale` shrinks the wave for a
 * bounded benchmark (0.1: 130,000) or CI (0.001); `--full` (runner) or `SCALE=1` (k6) runs all.
 */
export const reservationWave = {
  name: 'reservation-wave',
  drop: {
    title: 'Phone reservations, Dec 2012 replay',
    skuPrefix: 'PHONE-RES',
    priceMinor: 199_900,
    currency: 'CNY',
    quantity: 50_000,
    perUserLimit: 1,
    reservationRequired: true,
    holdSeconds: 600,
  } satisfies DropSpec,
  fans: 1_300_000,
  /** The benchmark's default scale (bounded in time); 1 with --full. */
  benchScale: 0.1,
  /** The reservation window: long enough that it never closes during the wave. */
  windowSeconds: 3_600,
  arrival: { ratePerSecond: 30_000, maxInFlight: 100 } satisfies ArrivalSpec,
  reserve: { method: 'POST', path: '/v1/drops/{dropId}/reservations', body: {} },
  /** 201 the first time; 200 (same body) only on a repeat, which the wave never sends. */
  expectedAnswers: { 201: 'reserved' } as Record<number, string>,
  targets: {
    rate: { label: 'reservations/s vs the floor', kind: 'min', value: 0.8, unit: 'x', ratio: true },
    /** CPU of the rest of the stack (worker, analytics, wallet, Kafka) per reservation vs the API's. */
    pipelineCpu: {
      label: "rest of the stack's CPU vs the API's",
      kind: 'max',
      value: 0.3,
      unit: 'x',
      ratio: true,
    },
    memory: { label: 'Redis memory per reservation', kind: 'max', value: 100, unit: 'B' },
  } satisfies Record<string, TargetSpec>,
};
