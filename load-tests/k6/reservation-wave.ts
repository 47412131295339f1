// k6 script: the reservation wave (load-tests/scenarios/reservation-wave.ts), open model.
//   k6 run -e API_URL=http://127.0.0.1:3000 -e SCALE=0.1 load-tests/k6/reservation-wave.ts
// SCALE=1 sends all 1.3 M reservations; the threshold is the target of docs/architecture.md (>= 10,000/s:
// the arrival rate is above it, so a stack that keeps up shows no dropped iterations).
import { check, sleep } from 'k6';
import exec from 'k6/execution';
import http from 'k6/http';
import { Counter } from 'k6/metrics';
import type { Options } from 'k6/options';
import { reservationWave } from '../scenarios/reservation-wave.ts';
import { API_URL, SCALE, createDrop, headers, path, runId, token } from './lib/api.ts';

const fans = Math.max(1, Math.round(reservationWave.fans * SCALE));
const rate = Math.min(reservationWave.arrival.ratePerSecond, fans);
const reserved = new Counter('reservations_created');
const wrongAnswers = new Counter('reservation_wrong_answers');

export const options: Options = {
  scenarios: {
    wave: {
      executor: 'constant-arrival-rate',
      exec: 'reserve',
      rate,
      timeUnit: '1s',
      duration: `${Math.max(1, Math.ceil(fans / rate))}s`,
      preAllocatedVUs: reservationWave.arrival.maxInFlight,
      maxVUs: reservationWave.arrival.maxInFlight * 10,
    },
  },
  thresholds: {
    reservation_wrong_answers: ['count==0'],
    dropped_iterations: ['count==0'],
  },
};

interface Setup {
  readonly run: string;
  readonly dropId: string;
}

export function setup(): Setup {
  const run = runId();
  const now = Date.now();
  const closes = now + reservationWave.windowSeconds * 1000;
  const dropId = createDrop(
    reservationWave.drop,
    reservationWave.drop.quantity,
    { reservationOpensAt: now + 500, reservationClosesAt: closes, saleStartsAt: closes },
    run,
  );
  sleep(0.6);
  return { run, dropId };
}

export function reserve(data: Setup): void {
  const i = exec.scenario.iterationInTest;
  if (i >= fans) return;
  const res = http.post(
    `${API_URL}${path(reservationWave.reserve.path, { dropId: data.dropId })}`,
    JSON.stringify(reservationWave.reserve.body),
    headers(token(`fan-${data.run}-${i}`, 'fan')),
  );
  if (check(res, { 'reserved (201)': (r) => r.status in reservationWave.expectedAnswers })) {
    reserved.add(1);
  } else {
    wrongAnswers.add(1);
  }
}
