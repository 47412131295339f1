import type { ArrivalSpec, DropSpec, TargetSpec } from './scenario';

/**
 * The car sale of Jan 2013: 666 units over a 3-day window, anyone may buy, sold out in 490 min
 * (one every 44 s). A trickle, not a rush: what it tests is the hold cycle. Some grabbers never
 * pay; their holds expire and the units return to stock for later fans, so the sale sells out
 * only through returned units. Real time is scaled: the window lasts `windowSeconds` and holds
 * the API's minimum, 10 s.
 */
export const carSale = {
  name: 'car-sale',
  drop: {
    title: 'Car, Jan 2013 replay',
    skuPrefix: 'CAR',
    priceMinor: 12_888_800,
    currency: 'CNY',
    quantity: 666,
    perUserLimit: 1,
    reservationRequired: false,
    holdSeconds: 10,
  } satisfies DropSpec,
  /** The scaled sale window (the real one: 3 days). */
  windowSeconds: 30,
  /** Distinct fans arriving at a steady trickle over the window, each grabbing once. */
  arrival: { ratePerSecond: 40, maxInFlight: 10 } satisfies ArrivalSpec,
  /** Every `abandonEvery`-th winner never pays: the hold expires and the unit goes back. */
  abandonEvery: 4,
  grab: { method: 'POST', path: '/v1/drops/{dropId}/purchases', body: { quantity: 1 } },
  pay: { method: 'POST', path: '/v1/orders/{orderId}/payment', body: {} },
  expectedGrabAnswers: { 201: 'held', 409: 'SOLD_OUT' } as Record<number, string>,
  targets: {
    oversold: { label: 'car units sold above 666', kind: 'max', value: 0, unit: '' },
  } satisfies Record<string, TargetSpec>,
  reference2013: { sellOutSeconds: 490 * 60 },
};
