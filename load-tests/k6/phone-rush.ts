// k6 script: the phone rush (load-tests/scenarios/phone-rush.ts), open model.
//   k6 run -e API_URL=http://127.0.0.1:3000 -e SCALE=0.01 load-tests/k6/phone-rush.ts
// Phases: every fan reserves inside the window (and an operator credits their wallet with the
// price); at the sale's start instant every fan grabs once at a constant arrival rate; each
// winner pays at once. The targets of docs/architecture.md are ratios to floors measured beside the stack
// (`npm run bench`); k6's thresholds here are loose bounds that catch a broken stack.
import { check, fail, sleep } from 'k6';
import exec from 'k6/execution';
import http from 'k6/http';
import { Counter, Trend } from 'k6/metrics';
import type { Options } from 'k6/options';
import { phoneRush, scalePhoneRush } from '../scenarios/phone-rush.ts';
import { payments } from '../scenarios/payments.ts';
import { API_URL, SCALE, headers, path, stats, token } from './lib/api.ts';
import {
  fanOf,
  reservationWindow,
  reserveFan,
  SaleSetup,
  setUpSale,
} from './lib/reservation-phase.ts';

const { quantity, fans } = scalePhoneRush(SCALE);
/** Reservations (with a wallet credit each) before the sale. */
const reservePhase = reservationWindow(fans);
const reserveSeconds = reservePhase.seconds;
const grabSeconds = Math.max(1, Math.ceil(fans / phoneRush.arrival.ratePerSecond));
/** Margin between the reservation phase and the sale's start. */
const GAP_SECONDS = 3;

const grabs = new Counter('grabs_held');
const soldOut = new Counter('grabs_sold_out');
const wrongAnswers = new Counter('grab_wrong_answers');
const grabLatency = new Trend('grab_latency', true);
const payLatency = new Trend('pay_latency', true);

export const options: Options = {
  setupTimeout: '60s',
  scenarios: {
    reserve: reservePhase.scenario,
    rush: {
      executor: 'constant-arrival-rate',
      exec: 'grab',
      startTime: `${reserveSeconds + GAP_SECONDS}s`,
      rate: Math.min(phoneRush.arrival.ratePerSecond, fans),
      timeUnit: '1s',
      duration: `${grabSeconds}s`,
      preAllocatedVUs: phoneRush.arrival.maxInFlight,
      maxVUs: phoneRush.arrival.maxInFlight * 10,
    },
  },
  thresholds: {
    grab_latency: [`p(99)<${phoneRush.k6Bounds.grabP99Ms}`],
    grab_wrong_answers: ['count==0'],
    pay_latency: ['p(99)<1000'],
  },
};

type Setup = SaleSetup;

export function setup(): Setup {
  // The window closes at the sale's start.
  return setUpSale(phoneRush.drop, quantity, {
    windowSeconds: reserveSeconds,
    closeMarginSeconds: GAP_SECONDS,
    gapSeconds: 0,
  });
}

/** Reservation window: fan i reserves and gets the price credited to their wallet. */
export function reserve(data: Setup): void {
  const i = exec.scenario.iterationInTest;
  if (i >= fans) return;
  const fanId = fanOf(data.run, i);
  reserveFan(data, i);
  const credit = http.post(
    `${API_URL}${path(payments.credit.path, { fanId })}`,
    JSON.stringify({ amountMinor: phoneRush.drop.priceMinor, reference: `bench-${fanId}` }),
    headers(token(`operator-${data.run}`, 'operator')),
  );
  check(credit, { 'credited (201)': (r) => r.status === 201 });
}

/** The rush: fan i grabs once at the start instant; a winner pays at once. */
export function grab(data: Setup): void {
  const i = exec.scenario.iterationInTest;
  if (i >= fans) return;
  const wait = data.saleStartsAt - Date.now();
  if (wait > 0) sleep(wait / 1000);
  const fanToken = token(fanOf(data.run, i), 'fan');
  const res = http.post(
    `${API_URL}${path(phoneRush.grab.path, { dropId: data.dropId })}`,
    JSON.stringify(phoneRush.grab.body),
    headers(fanToken),
  );
  grabLatency.add(res.timings.duration);
  const code = res.status === 409 ? (res.json() as { error?: string }).error : undefined;
  if (res.status === 201) grabs.add(1);
  else if (code === 'SOLD_OUT') soldOut.add(1);
  else wrongAnswers.add(1);
  if (res.status !== 201) return;

  const order = res.json() as { id: string };
  const paid = http.post(
    `${API_URL}${path(payments.pay.path, { orderId: order.id })}`,
    JSON.stringify(payments.pay.body),
    headers(fanToken),
  );
  payLatency.add(paid.timings.duration);
  check(paid, { 'paid (200)': (r) => r.status === 200 });
}

/** No grab above stock: the stored truth after the rush. */
export function teardown(data: Setup): void {
  const s = stats(data.dropId, data.run) as {
    held?: number;
    paid?: number;
    firstSaleAt?: string;
    soldOutAt?: string;
  };
  const sold = (s.held ?? 0) + (s.paid ?? 0);
  if (sold > quantity) fail(`oversold: ${sold} units of ${quantity}`);
  if (s.soldOutAt) {
    const seconds = (Date.parse(s.soldOutAt) - data.saleStartsAt) / 1000;
    console.log(`sold out ${seconds.toFixed(2)} s after the start (2012: 314 s)`);
  }
}
