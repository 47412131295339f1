// k6 script: payments (load-tests/scenarios/payments.ts).
//   k6 run -e API_URL=http://127.0.0.1:3000 -e SCALE=0.1 load-tests/k6/payments.ts
// Phase 1 makes the orders to pay (fan i is credited the price and grabs one unit of a drop
// without reservation); phase 2 is measured: fan i finds their held order and pays it.
import { check, sleep } from 'k6';
import exec from 'k6/execution';
import http from 'k6/http';
import { Trend } from 'k6/metrics';
import type { Options } from 'k6/options';
import { payments } from '../scenarios/payments.ts';
import { phoneRush } from '../scenarios/phone-rush.ts';
import { API_URL, SCALE, createDrop, headers, path, runId, token } from './lib/api.ts';

const orders = Math.max(1, Math.round(payments.orders * SCALE));
const PREPARE_RATE = Math.min(2_000, orders);
const prepareSeconds = Math.ceil(orders / PREPARE_RATE);
const payRate = Math.min(payments.arrival.ratePerSecond, orders);
const payLatency = new Trend('pay_latency', true);

export const options: Options = {
  scenarios: {
    prepare: {
      executor: 'constant-arrival-rate',
      exec: 'prepare',
      startTime: '2s',
      rate: PREPARE_RATE,
      timeUnit: '1s',
      duration: `${prepareSeconds}s`,
      preAllocatedVUs: 50,
      maxVUs: 200,
    },
    pay: {
      executor: 'constant-arrival-rate',
      exec: 'pay',
      startTime: `${prepareSeconds + 4}s`,
      rate: payRate,
      timeUnit: '1s',
      duration: `${Math.max(1, Math.ceil(orders / payRate))}s`,
      preAllocatedVUs: payments.arrival.maxInFlight,
      maxVUs: payments.arrival.maxInFlight * 10,
    },
  },
  thresholds: { checks: ['rate==1'] },
};

interface Setup {
  readonly run: string;
  readonly dropId: string;
}

export function setup(): Setup {
  const run = runId();
  const dropId = createDrop(
    { ...phoneRush.drop, reservationRequired: false, skuPrefix: 'PAY' },
    orders,
    { saleStartsAt: Date.now() + 1_500 },
    run,
  );
  return { run, dropId };
}

const fanOf = (run: string, i: number) => `fan-${run}-${i}`;

export function prepare(data: Setup): void {
  const i = exec.scenario.iterationInTest;
  if (i >= orders) return;
  const fanId = fanOf(data.run, i);
  const credit = http.post(
    `${API_URL}${path(payments.credit.path, { fanId })}`,
    JSON.stringify({ amountMinor: phoneRush.drop.priceMinor, reference: `bench-${fanId}` }),
    headers(token(`operator-${data.run}`, 'operator')),
  );
  check(credit, { 'credited (201)': (r) => r.status === 201 });
  const grab = http.post(
    `${API_URL}${path(phoneRush.grab.path, { dropId: data.dropId })}`,
    JSON.stringify(phoneRush.grab.body),
    headers(token(fanId, 'fan')),
  );
  check(grab, { 'held (201)': (r) => r.status === 201 });
}

export function pay(data: Setup): void {
  const i = exec.scenario.iterationInTest;
  if (i >= orders) return;
  const fanToken = token(fanOf(data.run, i), 'fan');
  const list = http.get(`${API_URL}/v1/orders`, headers(fanToken));
  const mine = list.status === 200 ? (list.json() as Array<{ id: string; status: string }>) : [];
  const held = Array.isArray(mine) ? mine.find((o) => o.status === 'held') : undefined;
  if (!held) {
    check(list, { 'found a held order': () => false });
    sleep(0.01);
    return;
  }
  const res = http.post(
    `${API_URL}${path(payments.pay.path, { orderId: held.id })}`,
    JSON.stringify(payments.pay.body),
    headers(fanToken),
  );
  payLatency.add(res.timings.duration);
  check(res, { 'paid (200)': (r) => r.status in payments.expectedAnswers });
}
