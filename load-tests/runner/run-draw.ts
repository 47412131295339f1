import { Inventory, Outcome, Reservation } from '@flashdrop/inventory';
import { dropKeys } from '@flashdrop/testing';
import { phoneDraw } from '../scenarios/phone-draw';
import { RunContext } from './context';
import { drive, DriveResult } from './load';
import { Row } from './report';
import { bearer, call, createDrop, fanId, fill, sleep, tokenOf } from './stack';

interface DrawView {
  readonly seedCommitment?: string;
  readonly entrants: number;
  readonly winners?: string[];
  readonly drawnAt?: string;
}

export interface DrawResult {
  readonly dropId: string;
  readonly entrants: number;
  readonly quantity: number;
  readonly winners: number;
  /** Reservations closing -> the commitment published (entrants frozen, sorted, stored). */
  readonly commitSeconds: number;
  /** saleStartsAt -> drawnAt, both on the server's clock: every loser in line, every hold made. */
  readonly drawSeconds: number;
  /** Redis memory (MEMORY USAGE) per reservation, and per fan in the waitlist, in bytes. */
  readonly bytesPerEntrant: number;
  readonly bytesPerWaitlisted: number;
  /** Winners who cancelled at once, and how those units went down the line. */
  readonly release: {
    readonly drive: DriveResult;
    readonly released: number;
    readonly backfilled: number;
    /** First cancel sent -> every released unit held by a fan from the line. */
    readonly seconds: number;
  };
}

/**
 * The phone sale as a draw (load-tests/scenarios/phone-draw.ts) on the stack: `entrants`
 * reservations written straight into Redis with the API's own reserve script (the API's
 * reservation rate is the wave's figure), reservations close, the worker commits, the sale
 * starts, the worker draws; then a share of the winners cancel their holds through the API at
 * once and each unit passes down the line.
 */
export async function runDraw(
  ctx: RunContext,
  inventory: Inventory,
  entrants: number,
  quantity: number,
  maxSeconds: number,
): Promise<DrawResult> {
  const brand = tokenOf(ctx.stack, `brand-${ctx.run}-draw`, 'brand');
  const fans = `${ctx.run}d`;
  // A window long enough to seed every reservation (measured 6,000-26,000/s; see run-phone).
  const windowMs = Math.ceil((entrants / 6_000) * 1000) + 5_000;
  const opens = Date.now() + 500;
  const closes = opens + windowMs;
  const saleStartsAt = closes + 10_000;
  const drop = await createDrop(
    ctx.stack,
    brand,
    phoneDraw.drop,
    quantity,
    { reservationOpensAt: opens, reservationClosesAt: closes, saleStartsAt },
    `${ctx.run}-draw`,
  );
  ctx.log(`draw drop ${drop.id}: ${entrants} entrants for ${quantity} units`);
  await sleep(opens + 20 - Date.now());
  let reserved = 0;
  for (let from = 0; from < entrants; from += 10_000) {
    const batch: Promise<Outcome<Reservation>>[] = [];
    for (let i = from; i < Math.min(entrants, from + 10_000); i++) {
      batch.push(inventory.reserve(drop.id, fanId(fans, i)));
    }
    for (const r of await Promise.all(batch)) if (r.ok && r.value.created) reserved++;
  }
  if (reserved !== entrants) throw new Error(`only ${reserved} of ${entrants} reserved in time`);
  const k = dropKeys(drop.id);
  const resBytes = Number(
    await inventory.redis.call('MEMORY', 'USAGE', k.reservations, 'SAMPLES', '0'),
  );
  ctx.log(`draw: ${reserved} reserved; waiting for reservations to close`);

  const view = () =>
    call<DrawView>(ctx.stack, 'GET', fill(phoneDraw.draw.path, { dropId: drop.id }), undefined);
  const until = async (test: (v: DrawView) => boolean, what: string) => {
    const deadline = Date.now() + maxSeconds * 1000;
    for (;;) {
      const v = await view();
      if (test(v)) return v;
      if (Date.now() > deadline) throw new Error(`draw: no ${what} within ${maxSeconds} s`);
      await sleep(100);
    }
  };
  await sleep(closes - Date.now());
  await until((v) => v.seedCommitment !== undefined, 'commitment');
  const commitSeconds = (Date.now() - closes) / 1000;
  ctx.log(`draw: committed ${commitSeconds.toFixed(1)} s after reservations closed`);
  const drawn = await until((v) => v.drawnAt !== undefined, 'draw');
  const drawSeconds = (Date.parse(drawn.drawnAt!) - saleStartsAt) / 1000;
  const winners = drawn.winners ?? [];
  const lineBytes = Number(
    await inventory.redis.call('MEMORY', 'USAGE', k.waitlist, 'SAMPLES', '0'),
  );
  const waitlisted = await inventory.redis.zcard(k.waitlist);
  ctx.log(
    `draw: drawn in ${drawSeconds.toFixed(1)} s; ${winners.length} winners, ${waitlisted} in line`,
  );

  // A share of the winners let their hold go at once: the draw's order of rank r is `-w<r>`.
  const released = Math.min(
    winners.length,
    Math.max(1, Math.round(winners.length * phoneDraw.releaseShare)),
  );
  const tokens = winners.slice(0, released).map((fan) => tokenOf(ctx.stack, fan, 'fan'));
  const before = (await inventory.counters(drop.id)).backfilled;
  const t0 = Date.now();
  const cancels = await drive({
    origin: ctx.stack.origin,
    count: released,
    connections: phoneDraw.releaseInFlight,
    maxSeconds,
    call: (i) => ({
      path: fill(phoneDraw.cancel.path, { orderId: `${drop.id}-w${String(i).padStart(15, '0')}` }),
      headers: bearer(tokens[i]),
      body: '{}',
    }),
  });
  let backfilled = 0;
  const deadline = Date.now() + maxSeconds * 1000;
  while (Date.now() < deadline) {
    backfilled = (await inventory.counters(drop.id)).backfilled - before;
    if (backfilled >= released) break;
    await sleep(50);
  }
  const seconds = (Date.now() - t0) / 1000;
  ctx.log(
    `draw: ${released} winners cancelled; ${backfilled} units passed down in ${seconds.toFixed(1)} s`,
  );
  return {
    dropId: drop.id,
    entrants,
    quantity,
    winners: winners.length,
    commitSeconds,
    drawSeconds,
    bytesPerEntrant: resBytes / entrants,
    bytesPerWaitlisted: waitlisted > 0 ? lineBytes / waitlisted : NaN,
    release: { drive: cancels, released, backfilled, seconds },
  };
}

/** The draw's rows of the report (none when the step did not run). */
export function drawRows(d: DrawResult | undefined): Row[] {
  const n = (x: number) => x.toLocaleString('en-US');
  const scale = d ? `${n(d.entrants)} entrants, ${n(d.quantity)} units` : 'not run';
  const r = d?.release;
  return [
    {
      figure: `draw duration (${scale}): saleStartsAt -> drawn`,
      unit: 's',
      value: d?.drawSeconds,
      target: phoneDraw.targets.drawSeconds,
      note: d
        ? `every loser in line and every winner's hold made; commitment ${d.commitSeconds.toFixed(1)} s after reservations closed`
        : undefined,
    },
    {
      figure: 'draw: Redis per entrant / per waitlisted fan',
      unit: 'B',
      value: d?.bytesPerEntrant,
      floor: d?.bytesPerWaitlisted,
      floorLabel: 'waitlisted',
      note: d ? 'MEMORY USAGE of the reservations hash and of the waitlist zset' : undefined,
    },
    {
      figure: `backfill: ${r ? n(r.released) : '?'} winners cancel at once, units passed down the line`,
      unit: '/s',
      value: r ? r.backfilled / r.seconds : undefined,
      target: phoneDraw.targets.backfilled,
      met: r ? r.backfilled === r.released : undefined,
      note: r
        ? `${n(r.backfilled)} of ${n(r.released)} passed down in ${r.seconds.toFixed(1)} s (cancels answered ${r.drive.rate.toFixed(0)}/s)`
        : undefined,
      load: r?.drive.load,
    },
  ];
}
