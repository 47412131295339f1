import type { ArrivalSpec, TargetSpec } from './scenario';

/**
 * The phone's winners pay: every held order of the phone rush is paid from the fan's wallet,
 * which an operator credited with the price beforehand (1.3 M wallets were opened that day in
 * 2012; the wallet was the weak point). Each order is paid once here; exactly-once under
 * repeats is the wallet's own tests' business.
 */
export const payments = {
  name: 'payments',
  /** The orders paid: the phone's 50,000 (fewer when the rush is scaled). */
  orders: 50_000,
  arrival: { ratePerSecond: 10_000, maxInFlight: 100 } satisfies ArrivalSpec,
  credit: { method: 'POST', path: '/v1/wallets/{fanId}/credits' },
  pay: { method: 'POST', path: '/v1/orders/{orderId}/payment', body: {} },
  expectedAnswers: { 200: 'paid' } as Record<number, string>,
  targets: {
    rate: { label: 'payments/s vs the floor', kind: 'min', value: 0.5, unit: 'x', ratio: true },
  } satisfies Record<string, TargetSpec>,
};
