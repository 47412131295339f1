import { reservationWave } from '../scenarios/reservation-wave';
import { cpuSeconds } from './cpu';
import { RunContext } from './context';
import { answersOf, drive, DriveResult } from './load';
import { bearer, createDrop, fanId, fill, sleep, tokenOf } from './stack';

export interface ReservationWaveResult {
  readonly fans: number;
  readonly drive: DriveResult;
  readonly reserved: number;
  readonly bytesPerReservation: number;
  /** CPU microseconds per answered reservation, by process (NaN where a pid is unknown). */
  readonly cpuUs: { readonly api: number; readonly redis: number; readonly others: number };
}

/** Processes whose CPU the wave reads: the API, Redis, and the rest of the stack together. */
export interface WavePids {
  readonly api?: number;
  readonly redis?: number;
  readonly others: readonly number[];
}

/**
 * The reservation wave: `fans` distinct fans reserve one drop as fast as the stack takes them,
 * each once. Memory per reservation is read from Redis (MEMORY USAGE of the drop's
 * reservation keys) over the count.
 */
export async function runReservationWave(
  ctx: RunContext,
  fans: number,
  maxSeconds: number,
  pids: WavePids = { others: [] },
): Promise<ReservationWaveResult> {
  const brand = tokenOf(ctx.stack, `brand-${ctx.run}`, 'brand');
  const now = Date.now();
  const closes = now + reservationWave.windowSeconds * 1000;
  const drop = await createDrop(
    ctx.stack,
    brand,
    reservationWave.drop,
    reservationWave.drop.quantity,
    { reservationOpensAt: now + 300, reservationClosesAt: closes, saleStartsAt: closes },
    `${ctx.run}-wave`,
  );
  const run = `${ctx.run}w`;
  const tokens = Array.from({ length: fans }, (_, i) => tokenOf(ctx.stack, fanId(run, i), 'fan'));
  await sleep(now + 350 - Date.now());

  const path = fill(reservationWave.reserve.path, { dropId: drop.id });
  const body = JSON.stringify(reservationWave.reserve.body);
  const othersCpu = () => pids.others.reduce((sum, pid) => sum + cpuSeconds(pid), 0);
  const cpu0 = { api: cpuSeconds(pids.api), redis: cpuSeconds(pids.redis), others: othersCpu() };
  const result = await drive({
    origin: ctx.stack.origin,
    count: fans,
    connections: reservationWave.arrival.maxInFlight,
    maxSeconds,
    call: (i) => ({ path, headers: bearer(tokens[i]), body }),
  });
  const reserved = answersOf(result, reservationWave.expectedAnswers);
  const perAnswer = (now: number, before: number) =>
    ((now - before) * 1e6) / Math.max(1, result.answered);
  const cpuUs = {
    api: perAnswer(cpuSeconds(pids.api), cpu0.api),
    redis: perAnswer(cpuSeconds(pids.redis), cpu0.redis),
    others: perAnswer(othersCpu(), cpu0.others),
  };
  return {
    fans,
    drive: result,
    reserved,
    cpuUs,
    bytesPerReservation: (await reservationBytes(ctx, drop.id)) / Math.max(1, reserved),
  };
}

/** Bytes Redis spends on one drop's reservations: every `{d:ID}:res*` key, exactly. */
export async function reservationBytes(ctx: RunContext, dropId: string): Promise<number> {
  let cursor = '0';
  let bytes = 0;
  do {
    const [nextCursor, keys] = await ctx.redis.scan(
      cursor,
      'MATCH',
      `{d:${dropId}}:res*`,
      'COUNT',
      1000,
    );
    cursor = nextCursor;
    for (const key of keys) {
      const used = (await ctx.redis.call('MEMORY', 'USAGE', key, 'SAMPLES', '0')) as number | null;
      bytes += used ?? 0;
    }
  } while (cursor !== '0');
  return bytes;
}
