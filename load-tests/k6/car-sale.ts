// k6 script: the car sale (load-tests/scenarios/car-sale.ts), a trickle over a scaled window.
//   k6 run -e API_URL=http://127.0.0.1:3000 load-tests/k6/car-sale.ts
// Anyone may buy; each arriving fan is credited, grabs once and pays, except every
// `abandonEvery`-th winner, whose hold expires after 10 s and returns the unit for a later fan.
import { check, fail, sleep } from 'k6';
import exec from 'k6/execution';
import http from 'k6/http';
import { Counter } from 'k6/metrics';
import type { Options } from 'k6/options';
import { carSale } from '../scenarios/car-sale.ts';
import { payments } from '../scenarios/payments.ts';
import { API_URL, SCALE, createDrop, headers, path, runId, stats, token } from './lib/api.ts';

const quantity = Math.max(1, Math.round(carSale.drop.quantity * SCALE));
const START_DELAY_MS = 2_000;
const wrongAnswers = new Counter('car_wrong_answers');
const abandoned = new Counter('car_holds_abandoned');

export const options: Options = {
  scenarios: {
    trickle: {
      executor: 'constant-arrival-rate',
      exec: 'buy',
      startTime: `${START_DELAY_MS / 1000}s`,
      rate: carSale.arrival.ratePerSecond,
      timeUnit: '1s',
      duration: `${carSale.windowSeconds}s`,
      preAllocatedVUs: carSale.arrival.maxInFlight,
      maxVUs: carSale.arrival.maxInFlight * 5,
    },
  },
  thresholds: { car_wrong_answers: ['count==0'] },
};

interface Setup {
  readonly run: string;
  readonly dropId: string;
}

export function setup(): Setup {
  const run = runId();
  const saleStartsAt = Date.now() + START_DELAY_MS;
  const dropId = createDrop(
    carSale.drop,
    quantity,
    { saleStartsAt, saleEndsAt: saleStartsAt + (carSale.windowSeconds + 15) * 1000 },
    run,
  );
  return { run, dropId };
}

export function buy(data: Setup): void {
  const i = exec.scenario.iterationInTest;
  const fanId = `fan-${data.run}-${i}`;
  const fanToken = token(fanId, 'fan');
  http.post(
    `${API_URL}${path(payments.credit.path, { fanId })}`,
    JSON.stringify({ amountMinor: carSale.drop.priceMinor, reference: `bench-${fanId}` }),
    headers(token(`operator-${data.run}`, 'operator')),
  );
  const res = http.post(
    `${API_URL}${path(carSale.grab.path, { dropId: data.dropId })}`,
    JSON.stringify(carSale.grab.body),
    headers(fanToken),
  );
  const code = res.status === 409 ? (res.json() as { error?: string }).error : undefined;
  if (res.status !== 201 && code !== 'SOLD_OUT') wrongAnswers.add(1);
  if (res.status !== 201) return;
  if (i % carSale.abandonEvery === 0) {
    abandoned.add(1);
    return;
  }
  const order = res.json() as { id: string };
  const paid = http.post(
    `${API_URL}${path(carSale.pay.path, { orderId: order.id })}`,
    JSON.stringify(carSale.pay.body),
    headers(fanToken),
  );
  check(paid, { 'paid (200)': (r) => r.status === 200 });
}

/** Holds expired and came back; never more units out than the car's 666. */
export function teardown(data: Setup): void {
  sleep(carSale.drop.holdSeconds + 2);
  const s = stats(data.dropId, data.run) as { held?: number; paid?: number; expired?: number };
  const out = (s.held ?? 0) + (s.paid ?? 0);
  if (out > quantity) fail(`oversold: ${out} units of ${quantity}`);
  console.log(`car: paid ${s.paid}, held ${s.held}, expired ${s.expired} of ${quantity}`);
}
