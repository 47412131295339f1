// What the phone rush and the phone draw share (k6 only): a reservation window at a constant
// arrival rate, the drop created with that window before the sale, the run's fans by index, and
// a fan's reservation. Each script adds its own phase after the window (the rush's grabs, the
// draw's releases).
import { check, sleep } from 'k6';
import http from 'k6/http';
import type { Scenario } from 'k6/options';
import type { DropSpec } from '../../scenarios/scenario.ts';
import { API_URL, createDrop, headers, path, runId, token } from './api.ts';

/** The highest rate at which the window's fans reserve (a fan a VU iteration). */
const MAX_RESERVE_RATE = 5_000;

/** What setup() hands every VU: the run, its drop, the sale's start instant. */
export interface SaleSetup {
  readonly run: string;
  readonly dropId: string;
  readonly saleStartsAt: number;
}

/** The reservation window for `fans` fans: its length and the k6 scenario that runs `exec`. */
export function reservationWindow(fans: number, exec = 'reserve') {
  const rate = Math.min(MAX_RESERVE_RATE, fans);
  const seconds = Math.ceil(fans / rate);
  const scenario: Scenario = {
    executor: 'constant-arrival-rate',
    exec,
    rate,
    timeUnit: '1s',
    duration: `${seconds}s`,
    preAllocatedVUs: 50,
    maxVUs: 200,
  };
  return { seconds, scenario };
}

/**
 * Creates the drop: its window opens at once and runs `windowSeconds`, closing
 * `closeMarginSeconds` later; the sale starts `gapSeconds` after the close.
 */
export function setUpSale(
  spec: DropSpec,
  quantity: number,
  window: { windowSeconds: number; closeMarginSeconds: number; gapSeconds: number },
): SaleSetup {
  const run = runId();
  const now = Date.now();
  const closes = now + (window.windowSeconds + window.closeMarginSeconds) * 1000;
  const saleStartsAt = closes + window.gapSeconds * 1000;
  const dropId = createDrop(
    spec,
    quantity,
    { reservationOpensAt: now + 500, reservationClosesAt: closes, saleStartsAt },
    run,
  );
  // The window opens 500 ms after now: the first reservation must not come before it.
  sleep(0.6);
  return { run, dropId, saleStartsAt };
}

/** Fan `index` of this run. */
export function fanOf(run: string, index: number): string {
  return `fan-${run}-${index}`;
}

/** Fan `index` reserves; answers whether it was reserved (201). */
export function reserveFan(data: SaleSetup, index: number): boolean {
  const res = http.post(
    `${API_URL}${path('/v1/drops/{dropId}/reservations', { dropId: data.dropId })}`,
    '{}',
    headers(token(fanOf(data.run, index), 'fan')),
  );
  return check(res, { 'reserved (201)': (r) => r.status === 201 });
}
