// k6 script: the phone sale as a draw (load-tests/scenarios/phone-draw.ts).
//   k6 run -e API_URL=http://127.0.0.1:3000 -e SCALE=0.01 load-tests/k6/phone-draw.ts
// Phases: every entrant reserves inside the window; the window closes and the worker commits to
// a seed; at the sale's start the worker draws; then a share of the winners cancel their holds
// at once (each unit passes down the line) while waitlisted fans read where they stand.
// SCALE=1 is the real thing: 1.3 M entrants for 50,000 units. `npm run bench` measures the same
// scenario with its own runner (load-tests/runner/run-draw.ts).
import { check, fail, sleep } from 'k6';
import exec from 'k6/execution';
import http from 'k6/http';
import { Counter, Trend } from 'k6/metrics';
import type { Options } from 'k6/options';
import { phoneDraw, scalePhoneDraw } from '../scenarios/phone-draw.ts';
import { API_URL, SCALE, headers, path, stats, token } from './lib/api.ts';
import {
  fanOf,
  reservationWindow,
  reserveFan,
  SaleSetup,
  setUpSale,
} from './lib/reservation-phase.ts';

const { quantity, entrants } = scalePhoneDraw(SCALE);
const reservePhase = reservationWindow(entrants);
const reserveSeconds = reservePhase.seconds;
/** Between the window's close and the sale's start: the commitment is published there. */
const GAP_SECONDS = 5;
/** How long the script waits for the draw before failing. */
const DRAW_WAIT_SECONDS = 300;
const released = Math.max(1, Math.round(quantity * phoneDraw.releaseShare));
/** Waitlisted fans who read their standing after the releases. */
const standingReads = Math.min(10_000, Math.max(0, entrants - quantity));

const drawSeconds = new Trend('draw_seconds');
const wrongAnswers = new Counter('draw_wrong_answers');
const backfilled = new Counter('units_passed_down');
const standingLatency = new Trend('standing_latency', true);

export const options: Options = {
  setupTimeout: '60s',
  scenarios: {
    reserve: reservePhase.scenario,
    release: {
      executor: 'shared-iterations',
      exec: 'release',
      startTime: `${reserveSeconds + GAP_SECONDS}s`,
      vus: 1,
      iterations: 1,
      maxDuration: `${DRAW_WAIT_SECONDS + 120}s`,
    },
  },
  thresholds: {
    draw_wrong_answers: ['count==0'],
    draw_seconds: [`max<${phoneDraw.targets.drawSeconds.value}`],
    standing_latency: ['p(99)<1000'],
  },
};

type Setup = SaleSetup;

export function setup(): Setup {
  // The window closes a second after its last reservation; the commitment is published before
  // the sale.
  return setUpSale(phoneDraw.drop, quantity, {
    windowSeconds: reserveSeconds,
    closeMarginSeconds: 1,
    gapSeconds: GAP_SECONDS,
  });
}

/** The window: entrant i reserves. */
export function reserve(data: Setup): void {
  const i = exec.scenario.iterationInTest;
  if (i >= entrants) return;
  if (!reserveFan(data, i)) wrongAnswers.add(1);
}

interface DrawView {
  readonly winners?: string[];
  readonly drawnAt?: string;
}

/** After the draw: winners release their holds at once; waitlisted fans read their standing. */
export function release(data: Setup): void {
  let view: DrawView = {};
  const deadline = Date.now() + DRAW_WAIT_SECONDS * 1000;
  while (view.drawnAt === undefined) {
    if (Date.now() > deadline) fail('the draw was not done in time');
    sleep(0.2);
    const res = http.get(`${API_URL}${path(phoneDraw.draw.path, { dropId: data.dropId })}`);
    view = res.json() as DrawView;
  }
  drawSeconds.add((Date.parse(view.drawnAt) - data.saleStartsAt) / 1000);
  const winners = view.winners ?? [];
  if (winners.length !== Math.min(quantity, entrants)) wrongAnswers.add(1);

  const cancels = winners.slice(0, released).map((fan, rank) => ({
    method: 'POST',
    url: `${API_URL}${path(phoneDraw.cancel.path, {
      orderId: `${data.dropId}-w${String(rank).padStart(15, '0')}`,
    })}`,
    body: '{}',
    params: headers(token(fan, 'fan')),
  }));
  for (let i = 0; i < cancels.length; i += 100) {
    for (const r of http.batch(cancels.slice(i, i + 100))) {
      if (r.status === 200) backfilled.add(1);
      else wrongAnswers.add(1);
    }
  }
  const winnerSet = new Set(winners);
  let read = 0;
  for (let i = 0; i < entrants && read < standingReads; i++) {
    const fan = fanOf(data.run, i);
    if (winnerSet.has(fan)) continue;
    const res = http.get(
      `${API_URL}${path(phoneDraw.standing.path, { dropId: data.dropId })}`,
      headers(token(fan, 'fan')),
    );
    standingLatency.add(res.timings.duration);
    const body = res.json() as { drawResult?: string };
    if (res.status !== 200 || body.drawResult !== 'waitlisted') wrongAnswers.add(1);
    read++;
  }
}

/** Every released unit went down the line (the stats' `backfilled`). */
export function teardown(data: Setup): void {
  const s = stats(data.dropId, data.run) as { backfilled?: number; winners?: number };
  check(s, {
    'every released unit passed down': (x) => (x.backfilled ?? 0) === released,
    'winners counted': (x) => (x.winners ?? 0) === Math.min(quantity, entrants),
  });
}
