import { overload } from '../scenarios/overload';
import { RunContext } from './context';
import { cpuSeconds } from './cpu';
import { drive, DriveResult, Latency } from './load';
import { ApiProcess } from './processes';
import { Row } from './report';
import { generatorText } from './rows';
import { bearer, createDrop, fill, getDrop, sleep, tokenOf } from './stack';

/** One side of the overload: an API process with or without its in-flight bound. */
export interface OverloadSide {
  /** API_MAX_IN_FLIGHT of this side's process (0: no bound). */
  readonly maxInFlight: number;
  readonly drive: DriveResult;
  /** 201 held. */
  readonly served: number;
  /** 503 SERVICE_UNAVAILABLE. */
  readonly shed: number;
  /** Any other answer, and requests that got none. */
  readonly errors: number;
  readonly servedMs?: Latency;
  readonly shedMs?: Latency;
  /** Held answers per second, from the first grab to the last answer. */
  readonly servedPerSecond: number;
  /** Units taken that the answers cannot explain (unitsAdrift): 0 when a shed grab took none. */
  readonly unitsAdrift: number;
  /** CPU time of this side's API process per answer. */
  readonly cpuUsPerAnswer: number;
}

export interface OverloadResult {
  readonly bounded: OverloadSide;
  readonly unbounded: OverloadSide;
}

/**
 * The same overload (scenarios/overload.ts) against two API processes of the bench stack started
 * for it, one at a time on `port`: the first with `bound` requests in flight at most, the second
 * with none. Each gets a fresh drop (created through the stack's API) and the same fans; the
 * autocannon driver, because it times each answer with its status (the 503s apart from the
 * 201s). `env`: what the processes need beyond the runner's environment (the bench profile).
 */
export async function runOverload(
  ctx: RunContext,
  tokens: readonly string[],
  bound: number,
  port: number,
  env: Record<string, string>,
  logFile: string,
  /**
   * BENCH_PROFILE=1: a CPU profile of each side's API over its drive (bench.ts profileRush;
   * `preload` is the profiler's -r module), to see where a shed and a held grab spend the loop.
   */
  profile?: { readonly preload: string; readonly of: (name: string, pid?: number) => RushWindow },
): Promise<OverloadResult> {
  const side = async (maxInFlight: number): Promise<OverloadSide> => {
    // The unbounded side has neither bound: no count, and no event-loop watch (admission.ts).
    const bounds: Record<string, string> = { API_MAX_IN_FLIGHT: String(maxInFlight) };
    if (maxInFlight === 0) bounds.API_MAX_EVENT_LOOP_DELAY_MS = '0';
    const preload: Record<string, string> = profile
      ? { NODE_OPTIONS: `-r ${profile.preload}` }
      : {};
    const api = new ApiProcess(port, { ...env, ...bounds, ...preload }, logFile);
    await api.start();
    try {
      const window = profile?.of(`api-overload-${maxInFlight || 'none'}`, api.pid);
      return await overloadOnce(ctx, api, tokens, maxInFlight, window);
    } finally {
      await api.stop();
    }
  };
  const bounded = await side(bound);
  // The first side's orders still flow through the pipeline (persistence, analytics): a pause
  // so that the second side does not pay for them.
  await sleep(10_000);
  const unbounded = await side(0);
  return { bounded, unbounded };
}

/** A profiler's window around a drive (bench.ts profileRush). */
export interface RushWindow {
  readonly before?: () => void;
  readonly after?: () => Promise<void>;
}

async function overloadOnce(
  ctx: RunContext,
  api: ApiProcess,
  tokens: readonly string[],
  maxInFlight: number,
  window?: RushWindow,
): Promise<OverloadSide> {
  const fans = Math.min(tokens.length, overload.fans);
  const brand = tokenOf(ctx.stack, `brand-${ctx.run}`, 'brand');
  const saleStartsAt = Date.now() + 1_000;
  const drop = await createDrop(
    ctx.stack,
    brand,
    overload.drop,
    fans,
    { saleStartsAt },
    `${ctx.run}-overload-${maxInFlight}`,
  );
  await sleep(saleStartsAt + 20 - Date.now());
  const path = fill(overload.grab.path, { dropId: drop.id });
  const body = JSON.stringify(overload.grab.body);
  const cpu0 = cpuSeconds(api.pid);
  window?.before?.();
  const result = await drive({
    origin: api.origin,
    count: fans,
    connections: overload.inFlight,
    maxSeconds: overload.maxSeconds,
    call: (i) => ({ path, headers: bearer(tokens[i]), body }),
    generator: 'autocannon',
  });
  const cpu = cpuSeconds(api.pid) - cpu0;
  await window?.after?.();
  const served = result.statuses['201'] ?? 0;
  const shed = result.statuses['503'] ?? 0;
  const after = await getDrop(ctx.stack, drop.id);
  ctx.log(
    `overload, bound ${maxInFlight || 'none'}: ${served} held, ${shed} shed, ` +
      `p50 held ${result.latencyByStatusMs?.['201']?.p50.toFixed(0)} ms`,
  );
  return {
    maxInFlight,
    drive: result,
    served,
    shed,
    errors: result.answered - served - shed + result.failures,
    servedMs: result.latencyByStatusMs?.['201'],
    shedMs: result.latencyByStatusMs?.['503'],
    servedPerSecond:
      result.lastAnswerSeconds['201'] > 0 ? served / result.lastAnswerSeconds['201'] : NaN,
    unitsAdrift: unitsAdrift(fans - after.remaining, served, result.failures),
    cpuUsPerAnswer: (cpu * 1e6) / Math.max(1, result.answered),
  };
}

/**
 * The units a side's grabs took that its answers cannot explain; 0 when every shed grab took
 * none. Each 201 took one unit and each 503 (or other refusal) none, but a grab that got no
 * answer (the generator's timeout, a reset) may have taken one: so `taken` must lie between the
 * held answers and the held answers plus the unanswered. Above that: units taken by refused
 * grabs (positive); below it: held answers without a unit (negative). Counting a late answer
 * as drift was the first version's mistake (remaining + held - quantity), read as -454 in a run
 * whose held answers outlasted autocannon's 10 s timeout.
 */
export function unitsAdrift(taken: number, served: number, unanswered: number): number {
  if (taken > served + unanswered) return taken - served - unanswered;
  return Math.min(0, taken - served);
}

/**
 * The overload's rows: each figure with the bound (value) beside the same without it (the
 * comparison column, "no bound").
 */
export function overloadRows(o: OverloadResult | undefined): Row[] {
  const n = (x: number) => x.toLocaleString('en-US');
  const b = o?.bounded;
  const u = o?.unbounded;
  const sides = b ? `bound ${n(b.maxInFlight)} / none` : 'bound / none';
  const scale = `${n(overload.inFlight)} fans in flight, ${n(overload.fans)} in all`;
  const count = (s: OverloadSide) => `${n(s.served)} held, ${n(s.shed)} shed, ${n(s.errors)} other`;
  const compared = { floorLabel: 'no bound', ratio: true } as const;
  return [
    {
      figure: `overload (${scale}; ${sides}): p50 of the grabs held`,
      unit: 'ms',
      value: b?.servedMs?.p50,
      floor: u?.servedMs?.p50,
      ...compared,
      note: b && u ? `${count(b)} / ${count(u)}` : undefined,
      generator: generatorText(b?.drive, u?.drive),
      load: b?.drive.load,
    },
    {
      figure: 'overload: p99 of the grabs held',
      unit: 'ms',
      value: b?.servedMs?.p99,
      floor: u?.servedMs?.p99,
      ...compared,
    },
    {
      figure: 'overload: p99 of the 503s (Retry-After: they learn at once to come back)',
      unit: 'ms',
      value: b?.shedMs?.p99,
      floor: u?.shedMs?.p99,
      floorLabel: 'no bound',
    },
    {
      figure: 'overload: grabs held per second',
      unit: '/s',
      value: b?.servedPerSecond,
      floor: u?.servedPerSecond,
      ...compared,
    },
    {
      figure: 'overload: CPU per answer, API process',
      unit: 'us',
      value: b?.cpuUsPerAnswer,
      floor: u?.cpuUsPerAnswer,
      ...compared,
    },
    {
      figure:
        'overload: units adrift (taken beyond held + unanswered, or short of held; a shed grab takes none)',
      unit: '',
      value: b && u ? Math.abs(b.unitsAdrift) + Math.abs(u.unitsAdrift) : undefined,
      target: { label: 'adrift', kind: 'max', value: 0, unit: '' },
      note: b && u ? `${b.unitsAdrift} / ${u.unitsAdrift}` : undefined,
    },
  ];
}
