import { Inventory, Outcome, Reservation } from '@flashdrop/inventory';
import { phoneRush } from '../scenarios/phone-rush';
import { RunContext } from './context';
import { cpuSeconds } from './cpu';
import { drive, DriveResult } from './load';
import { bearer, createDrop, DropStats, fanId, fill, sleep, stats, tokenOf } from './stack';

/** A fan who won a unit: their index among the rush's fans and their order. */
export interface Winner {
  readonly fan: number;
  readonly orderId: string;
}

export interface RushResult {
  readonly quantity: number;
  readonly fans: number;
  readonly drive: DriveResult;
  readonly held: number;
  readonly soldOut: number;
  /** Answers other than 201 held / 409 SOLD_OUT, plus requests with no answer. */
  readonly errors: number;
  /** Seconds from the first grab sent to the answer that took the last unit. */
  readonly sellOutSeconds?: number;
  readonly winners: Winner[];
  /** CPU time the server process and Redis spent per grab answered (from /proc). */
  /** `others`: the rest of the stack (its event pipeline, the wallet, Kafka); NaN for peers. */
  readonly cpuUsPerGrab: {
    readonly server: number;
    readonly redis: number;
    readonly others: number;
  };
}

/** The processes whose CPU a rush measures. */
export interface RushPids {
  readonly server?: number;
  readonly redis?: number;
  /** The rest of the stack (only for the stack's own rush). */
  readonly others?: readonly number[];
}

export interface PhoneResult {
  readonly dropId: string;
  /** The reservations through the API (absent when seeded straight into Redis). */
  readonly reserve?: DriveResult;
  readonly reservedOk: number;
  readonly rush: RushResult;
  /** held + paid units per the stack's stats after the rush, minus the quantity (<= 0). */
  readonly oversold: number;
  readonly stats?: DropStats;
}

/**
 * Drives one rush: `fans` distinct fans POST a grab each, as fast as answers come over the
 * scenario's connections, against any server with the API's purchase route (the stack, or a
 * peer). Counts answers by kind and notes when the last unit went.
 */
export async function rush(
  origin: string,
  dropId: string,
  quantity: number,
  tokens: readonly string[],
  maxSeconds: number,
  pids: RushPids = {},
  /** Arrivals per second (open model); none: as fast as answers come over the connections. */
  rate?: number,
  connections: number = phoneRush.arrival.maxInFlight,
): Promise<RushResult> {
  const fans = tokens.length;
  const path = fill(phoneRush.grab.path, { dropId });
  const body = JSON.stringify(phoneRush.grab.body);
  const othersCpu = () =>
    pids.others ? pids.others.reduce((sum, pid) => sum + cpuSeconds(pid), 0) : NaN;
  const cpu0 = {
    server: cpuSeconds(pids.server),
    redis: cpuSeconds(pids.redis),
    others: othersCpu(),
  };
  const result = await drive({
    origin,
    count: fans,
    connections,
    maxSeconds,
    rate,
    call: (i) => ({ path, headers: bearer(tokens[i]), body }),
    keepBodies: [201],
  });
  const perGrab = (now: number, before: number) => ((now - before) * 1e6) / result.answered;
  const cpuUsPerGrab = {
    server: perGrab(cpuSeconds(pids.server), cpu0.server),
    redis: perGrab(cpuSeconds(pids.redis), cpu0.redis),
    others: perGrab(othersCpu(), cpu0.others),
  };
  const winners = result.bodies.map(winnerOf);
  const soldOut = result.codes.SOLD_OUT ?? 0;
  // Answers that were neither, plus requests that got none (a request still in flight when the
  // time bound stopped the run is not an error of the server's).
  const errors = result.answered - winners.length - soldOut + result.failures;
  return {
    quantity,
    fans,
    drive: result,
    held: winners.length,
    soldOut,
    errors,
    // Exactly `quantity` grabs are answered 201, so the last 201 took the last unit.
    sellOutSeconds: winners.length === quantity ? result.lastAnswerSeconds['201'] : undefined,
    winners,
    cpuUsPerGrab,
  };
}

/** A 201's order: its id and the fan's index (fan ids are `fan-<run>-<index>`, stack.ts). */
function winnerOf(text: string): Winner {
  try {
    const order = JSON.parse(text) as { id?: unknown; fanId?: unknown };
    const fan = typeof order.fanId === 'string' ? Number(order.fanId.split('-').pop()) : NaN;
    return { fan, orderId: typeof order.id === 'string' ? order.id : '' };
  } catch {
    return { fan: NaN, orderId: '' };
  }
}

/**
 * Reservations written straight into Redis with the reserve script the API runs (libs/inventory),
 * for a rush whose subject is the grab: the API's own reservation rate is the wave's figure.
 */
export interface ReservationSeed {
  readonly inventory: Inventory;
  /** The run the fan tokens were signed for (`fanId(run, i)` is fan i). */
  readonly run: string;
}

/**
 * Reservations per second assumed when sizing a seeded window. Measured 26,000/s under load 13
 * once, but 11,500/s under load 11 beside other suites, which left 56,406 of 240,000 fans
 * outside a window sized for 15,000/s; a window too long only costs idle seconds before the rush.
 */
const SEED_RATE = 6_000;

/**
 * The phone sale through the public API: a drop whose reservation window is sized for its fans,
 * every fan reserves inside it (through the API, sized from the reservation rate measured just
 * before; or seeded straight into Redis), and at the sale's start instant every fan grabs once.
 */
export async function runPhone(
  ctx: RunContext,
  tokens: readonly string[],
  quantity: number,
  reservationRate: number,
  maxSeconds: number,
  around: { before?: () => void; after?: () => Promise<void> } = {},
  pids: RushPids = {},
  seed?: ReservationSeed,
): Promise<PhoneResult> {
  const fans = tokens.length;
  const brand = tokenOf(ctx.stack, `brand-${ctx.run}`, 'brand');
  // The window must hold every reservation: twice the time the measured rate needs, plus slack
  // (the CPU is shared: the rate measured a minute ago is not a promise).
  const rate = seed ? SEED_RATE : Math.max(reservationRate, 500);
  const windowMs = Math.ceil((fans / rate) * (seed ? 1000 : 2000)) + 3_000;
  const opens = Date.now() + 500;
  const saleStartsAt = opens + windowMs;
  const drop = await createDrop(
    ctx.stack,
    brand,
    phoneRush.drop,
    quantity,
    { reservationOpensAt: opens, reservationClosesAt: saleStartsAt, saleStartsAt },
    `${ctx.run}-phone`,
  );
  ctx.log(`phone drop ${drop.id}: window ${(windowMs / 1000).toFixed(1)} s for ${fans} fans`);
  await sleep(opens + 20 - Date.now());

  const reservePath = `/v1/drops/${drop.id}/reservations`;
  let reservedOk = 0;
  let reserve: DriveResult | undefined;
  if (seed) {
    // Batches of concurrent calls: auto-pipelining sends each batch as one write.
    for (let from = 0; from < fans; from += 10_000) {
      const batch: Promise<Outcome<Reservation>>[] = [];
      for (let i = from; i < Math.min(fans, from + 10_000); i++) {
        batch.push(seed.inventory.reserve(drop.id, fanId(seed.run, i)));
      }
      for (const r of await Promise.all(batch)) if (r.ok && r.value.created) reservedOk++;
    }
  } else {
    reserve = await drive({
      origin: ctx.stack.origin,
      count: fans,
      connections: phoneRush.arrival.maxInFlight,
      maxSeconds: windowMs / 1000,
      call: (i) => ({ path: reservePath, headers: bearer(tokens[i]), body: '{}' }),
    });
    reservedOk = reserve.statuses['201'] ?? 0;
  }
  ctx.log(`phone: ${reservedOk} reserved${seed ? ' (seeded)' : ''}; waiting for the start`);

  // "At the start instant": the first grabs leave a few ms after saleStartsAt (same clock).
  await sleep(saleStartsAt + 5 - Date.now());
  around.before?.();
  const result = await rush(ctx.stack.origin, drop.id, quantity, tokens, maxSeconds, pids);
  await around.after?.();
  // The stats are analytics' view, a moment behind the sale: read them once they show every
  // unit the rush was answered 201 for (or after a bound), so an oversell cannot hide in the lag.
  let after: DropStats | undefined;
  const deadline = Date.now() + 30_000;
  do {
    after = await stats(ctx.stack, brand, drop.id).catch(() => undefined);
    if (after && after.held + after.paid >= result.held) break;
    await sleep(100);
  } while (Date.now() < deadline);
  const oversold = after ? after.held + after.paid - quantity : result.held - quantity;
  return { dropId: drop.id, reserve, reservedOk, rush: result, oversold, stats: after };
}
