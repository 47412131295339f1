import { cpus } from 'node:os';
import type { GeneratorName } from './drivers/generators';

/** One HTTP request of a run; `i` is its index, 0..count-1 (a fan, an order...). */
export interface Call {
  readonly method?: string;
  readonly path: string;
  /** `authorization` is the only header a driver sends besides the JSON content type. */
  readonly headers?: { readonly authorization?: string };
  readonly body?: string;
}

export interface DriveSpec {
  /** `http://127.0.0.1:<port>`: loopback only. */
  readonly origin: string;
  /** Exactly this many requests, one per index. */
  readonly count: number;
  /**
   * Requests in flight at most. Closed loop (no `rate`): that many connections, one request in
   * flight each. Open model (`rate`): the most the generator keeps open at once.
   */
  readonly connections: number;
  /** Hard bound: the run stops after this, answered or not. */
  readonly maxSeconds: number;
  /** Open model: requests start at this steady rate whatever the answers. None: closed loop. */
  readonly rate?: number;
  readonly call: (i: number) => Call;
  /** Statuses whose answer bodies the result keeps (e.g. 201: the winners' orders). */
  readonly keepBodies?: readonly number[];
  /** Which generator drives the run; default: the best one installed (drivers/generators.ts). */
  readonly generator?: GeneratorName;
}

export interface Latency {
  readonly p50: number;
  readonly p95: number;
  readonly p99: number;
  readonly max: number;
}

/** What the load generator itself used: on 2 shared cores it takes CPU from what it measures. */
export interface GeneratorUse {
  readonly name: GeneratorName;
  readonly cpuSeconds: number;
  /** cpuSeconds over (the run's seconds x the machine's cores). */
  readonly share: number;
}

export interface DriveResult {
  readonly requested: number;
  readonly answered: number;
  /** From the first request sent to the last answer. */
  readonly seconds: number;
  /** Answers per second over `seconds`. */
  readonly rate: number;
  readonly statuses: Record<string, number>;
  /** `error` of every JSON error body (docs/api.md), counted. */
  readonly codes: Record<string, number>;
  /**
   * Closed loop: as the generator measured it. Open model: from the instant each request was
   * due by the schedule, not from when it left, so a generator that fell behind cannot hide the
   * wait (coordinated omission).
   */
  readonly latencyMs: Latency;
  /**
   * The same latencies split by status, where the generator reports each answer's status with
   * its time (autocannon; absent for wrk and vegeta): an overload's 503s beside its 201s.
   */
  readonly latencyByStatusMs?: Readonly<Record<string, Latency>>;
  /** Connection errors and timeouts (no answer at all). */
  readonly failures: number;
  /** 1-minute load average before and after the run: other work on the machine shows here. */
  readonly load: readonly [number, number];
  readonly stoppedEarly: boolean;
  /** The bodies of the answers whose status is in `keepBodies`, in no particular order. */
  readonly bodies: readonly string[];
  /** Seconds from the first request sent to the last answer of each status. */
  readonly lastAnswerSeconds: Readonly<Record<string, number>>;
  readonly generator: GeneratorUse;
}

/** Exact percentiles of the recorded latencies (nearest rank). */
export function percentiles(values: Float64Array): Latency {
  if (values.length === 0) return { p50: NaN, p95: NaN, p99: NaN, max: NaN };
  const sorted = Float64Array.from(values).sort();
  const at = (p: number) => sorted[Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1)];
  return { p50: at(0.5), p95: at(0.95), p99: at(0.99), max: sorted[sorted.length - 1] };
}

/** The contract's error code of an answer body (docs/api.md: `{"error": CODE, ...}`). */
export function errorCode(body: string): string {
  try {
    const parsed = JSON.parse(body) as { error?: unknown };
    return typeof parsed.error === 'string' ? parsed.error : 'no-code';
  } catch {
    return 'not-json';
  }
}

/** Answers whose status is one of `expected`'s keys (a scenario's expected answers). */
export function answersOf(result: DriveResult, expected: Record<number, string>): number {
  return Object.keys(expected).reduce((sum, status) => sum + (result.statuses[status] ?? 0), 0);
}

export function generatorUse(name: GeneratorName, cpuSeconds: number, seconds: number) {
  return { name, cpuSeconds, share: cpuSeconds / Math.max(1e-9, seconds * cpus().length) };
}
