import type { DropSpec, TargetSpec } from './scenario';

/**
 * The phone sale of Dec 2012 as a draw (API.md "Fair launch"): the 1.3 M fans who reserved are
 * the entrants, 50,000 of them win a 1-unit hold in a seeded shuffle at the sale's start, the
 * rest are waitlisted in shuffled order; then some winners let their hold go and each unit
 * passes to the next fan in line. Measured: how long the draw takes (the server's saleStartsAt
 * to drawnAt), how fast released units pass down the line, and Redis memory per entrant and per
 * waitlisted fan.
 */
export const phoneDraw = {
  name: 'phone-draw',
  drop: {
    title: 'Phone, Dec 2012, by draw',
    skuPrefix: 'PHONE-DRAW',
    priceMinor: 199_900,
    currency: 'CNY',
    quantity: 50_000,
    perUserLimit: 1,
    reservationRequired: true,
    holdSeconds: 600,
    allocation: 'draw',
  } satisfies DropSpec,
  /** Entrants: every fan who reserved the 2012 phone. */
  entrants: 1_300_000,
  /** `npm run bench` without --full draws this share of it (and of the units). */
  benchScale: 0.1,
  /** Winners who release their hold (cancel) after the draw, at once: each unit passes down. */
  releaseShare: 0.1,
  /** Requests in flight while winners cancel (closed loop). */
  releaseInFlight: 50,
  /** How a winner lets their hold go, and how a fan reads where they stand. */
  cancel: { method: 'POST', path: '/v1/orders/{orderId}/cancel' },
  standing: { method: 'GET', path: '/v1/drops/{dropId}/me' },
  draw: { method: 'GET', path: '/v1/drops/{dropId}/draw' },
  targets: {
    drawSeconds: { label: 'draw duration', kind: 'max', value: 60, unit: 's' },
    backfilled: { label: 'released units not passed down', kind: 'max', value: 0, unit: '' },
  } satisfies Record<string, TargetSpec>,
};

/** The draw at another scale, keeping the units-to-entrants ratio. */
export function scalePhoneDraw(factor: number): { quantity: number; entrants: number } {
  return {
    quantity: Math.max(1, Math.round(phoneDraw.drop.quantity * factor)),
    entrants: Math.max(1, Math.round(phoneDraw.entrants * factor)),
  };
}
