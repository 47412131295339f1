import Redis from 'ioredis';
import { Inventory } from '@flashdrop/inventory';
import { isCluster, RedisClient } from '@flashdrop/persistence';
import { reservationWave } from '../scenarios/reservation-wave';
import { cpuSeconds, redisPid } from './cpu';
import { RunContext } from './context';
import { answersOf, drive, DriveResult } from './load';
import { PeerProcess } from './processes';
import { createFloorDrop } from './run-peers';
import { bearer, createDrop, fanTokens, fill, sleep, stats, tokenOf } from './stack';

export interface ReservationWaveResult {
  readonly dropId: string;
  readonly fans: number;
  readonly drive: DriveResult;
  readonly reserved: number;
  readonly bytesPerReservation: number;
  /**
   * CPU microseconds per answered reservation, by process (NaN where a pid is unknown): `api` is
   * the server (the stack's API, or the floor), `others` the rest of the stack (NaN for the floor).
   */
  readonly cpuUs: { readonly api: number; readonly redis: number; readonly others: number };
  /** Whether analytics had counted every reservation when `others` was read. */
  readonly pipelineDrained: boolean;
}

/** Processes whose CPU the wave reads: the API, Redis, and the rest of the stack together. */
export interface WavePids {
  readonly api?: number;
  readonly redis?: number;
  readonly others: readonly number[];
}

/** The wave's fans: `fan-<run>w-<i>`, signed once before the runs (stack.ts fanTokens). */
export function waveTokens(ctx: RunContext, fans: number): string[] {
  return fanTokens(ctx.stack, `${ctx.run}w`, fans);
}

/**
 * The reservation wave through the stack: every fan of `tokens` reserves one drop as fast as
 * the stack takes them, each once. Memory per reservation is read from Redis (MEMORY USAGE of
 * the drop's reservation keys) over the count.
 */
export async function runReservationWave(
  ctx: RunContext,
  tokens: readonly string[],
  maxSeconds: number,
  pids: WavePids = { others: [] },
  around: { before?: () => void; after?: () => Promise<void> } = {},
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
  await sleep(now + 350 - Date.now());
  // The rest of the stack's work for a reservation ends when analytics has counted it: the
  // wave's CPU figures are read once the stats show every reservation (or after a bound).
  const drained = async (reserved: number) => {
    const deadline = Date.now() + DRAIN_BOUND_MS;
    while (Date.now() < deadline) {
      const s = await stats(ctx.stack, brand, drop.id).catch(() => undefined);
      if (s && s.reservations >= reserved) return true;
      await sleep(100);
    }
    return false;
  };
  return reserveAll(
    ctx.stack.origin,
    drop.id,
    ctx.redis,
    tokens,
    maxSeconds,
    pids,
    drained,
    around,
  );
}

/** How long the wave waits, after its last answer, for analytics to count every reservation. */
const DRAIN_BOUND_MS = 60_000;

/**
 * The same wave against the reservation floor (load-tests/peers/floor-server.ts: the same
 * reserve script behind a bare route), its drop written straight into the floor's Redis.
 */
export async function runReservationFloor(
  ctx: RunContext,
  floor: PeerProcess,
  floorRedis: Redis,
  tokens: readonly string[],
  maxSeconds: number,
): Promise<ReservationWaveResult> {
  const inventory = new Inventory(floorRedis);
  const now = await inventory.now();
  const id = await createFloorDrop(
    inventory,
    `${ctx.run}-floor-wave`,
    reservationWave.drop.quantity,
    {
      reservationOpensAt: now,
      reservationClosesAt: now + reservationWave.windowSeconds * 1000,
      saleStartsAt: now + reservationWave.windowSeconds * 1000,
    },
  );
  return reserveAll(floor.origin, id, floorRedis, tokens, maxSeconds, {
    api: floor.pid,
    redis: await redisPid(floorRedis),
    others: [],
  });
}

async function reserveAll(
  origin: string,
  dropId: string,
  redis: RedisClient,
  tokens: readonly string[],
  maxSeconds: number,
  pids: WavePids,
  /** Resolves once the rest of the stack has done its part for `reserved` reservations. */
  drained: (reserved: number) => Promise<boolean> = async () => true,
  /** Around the answers only (BENCH_PROFILE: the API's CPU profile over the wave). */
  around: { before?: () => void; after?: () => Promise<void> } = {},
): Promise<ReservationWaveResult> {
  const path = fill(reservationWave.reserve.path, { dropId });
  const body = JSON.stringify(reservationWave.reserve.body);
  const othersCpu = () => pids.others.reduce((sum, pid) => sum + cpuSeconds(pid), 0);
  const cpu0 = { api: cpuSeconds(pids.api), redis: cpuSeconds(pids.redis), others: othersCpu() };
  around.before?.();
  const result = await drive({
    origin,
    count: tokens.length,
    connections: reservationWave.arrival.maxInFlight,
    maxSeconds,
    call: (i) => ({ path, headers: bearer(tokens[i]), body }),
  });
  const reserved = answersOf(result, reservationWave.expectedAnswers);
  // The API's and Redis's part ends with the answers; the pipeline's when analytics counted.
  const apiCpu = cpuSeconds(pids.api);
  const redisCpu = cpuSeconds(pids.redis);
  await around.after?.();
  const pipelineDrained = await drained(reserved);
  const perAnswer = (now: number, before: number) =>
    ((now - before) * 1e6) / Math.max(1, result.answered);
  const cpuUs = {
    api: perAnswer(apiCpu, cpu0.api),
    redis: perAnswer(redisCpu, cpu0.redis),
    others: pids.others.length ? perAnswer(othersCpu(), cpu0.others) : NaN,
  };
  return {
    dropId,
    pipelineDrained,
    fans: tokens.length,
    drive: result,
    reserved,
    cpuUs,
    bytesPerReservation: (await reservationBytes(redis, dropId)) / Math.max(1, reserved),
  };
}

/**
 * Bytes Redis spends on one drop's reservations: every `{d:ID}:res*` key, exactly. On a Redis
 * Cluster SCAN walks one node, so each primary is asked (the drop's keys are on one of them).
 */
export async function reservationBytes(redis: RedisClient, dropId: string): Promise<number> {
  const nodes = isCluster(redis) ? redis.nodes('master') : [redis];
  let bytes = 0;
  for (const node of nodes) {
    let cursor = '0';
    do {
      const [nextCursor, keys] = await node.scan(
        cursor,
        'MATCH',
        `{d:${dropId}}:res*`,
        'COUNT',
        1000,
      );
      cursor = nextCursor;
      for (const key of keys) {
        const used = (await node.call('MEMORY', 'USAGE', key, 'SAMPLES', '0')) as number | null;
        bytes += used ?? 0;
      }
    } while (cursor !== '0');
  }
  return bytes;
}
