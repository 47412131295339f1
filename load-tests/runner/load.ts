import autocannon from 'autocannon';
import { loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';

/** One HTTP request of a run; `i` is its index, 0..count-1 (a fan, an order...). */
export interface Call {
  readonly method?: string;
  readonly path: string;
  readonly headers?: Record<string, string>;
  readonly body?: string;
}

export interface DriveSpec {
  /** `http://127.0.0.1:<port>`: loopback only. */
  readonly origin: string;
  /** Exactly this many requests, one per index. */
  readonly count: number;
  /** Requests in flight at most (autocannon connections, one request each). */
  readonly connections: number;
  /** Hard bound: the run stops after this, answered or not. */
  readonly maxSeconds: number;
  /** Requests per second over all connections; none: as fast as answers come. */
  readonly rate?: number;
  readonly call: (i: number) => Call;
  /** Sees every answer (status, body) with the index of its request. */
  readonly onAnswer?: (i: number, status: number, body: string) => void;
}

export interface Latency {
  readonly p50: number;
  readonly p95: number;
  readonly p99: number;
  readonly max: number;
}

export interface DriveResult {
  readonly requested: number;
  readonly answered: number;
  /** From the first request sent to the last answer. */
  readonly seconds: number;
  /** Answers per second over `seconds`. */
  readonly rate: number;
  readonly statuses: Record<string, number>;
  /** `error` of every JSON error body (API.md), counted. */
  readonly codes: Record<string, number>;
  readonly latencyMs: Latency;
  /** Connection errors and timeouts (no answer at all). */
  readonly failures: number;
  /** 1-minute load average before and after the run: other work on the machine shows here. */
  readonly load: readonly [number, number];
  /** `performance.now()` when the run started (for milestones seen in onAnswer). */
  readonly startedAt: number;
  readonly stoppedEarly: boolean;
}

/**
 * Drives one run with autocannon: `count` requests built by `call(i)`, each index exactly once,
 * over `connections` keep-alive connections. autocannon keeps one request in flight per
 * connection (pipelining 1), so the per-connection context holds the index of the request whose
 * answer arrives next. Latencies are recorded per answer (autocannon's own summary has no p95).
 */
export async function drive(spec: DriveSpec): Promise<DriveResult> {
  const count = spec.count;
  const connections = Math.max(1, Math.min(spec.connections, count));
  const latencies = new Float64Array(count);
  const statuses: Record<string, number> = {};
  const codes: Record<string, number> = {};
  let next = 0;
  let answered = 0;
  let lastAnswerAt = 0;
  const load0 = loadavg()[0];

  const instance = autocannon({
    url: spec.origin,
    connections,
    amount: count,
    timeout: 10,
    pipelining: 1,
    overallRate: spec.rate,
    skipAggregateResult: true,
    requests: [
      {
        setupRequest: (request, context) => {
          // Every index once: autocannon builds exactly `amount` requests, in sending order.
          const i = next++ % count;
          context.i = i;
          const call = spec.call(i);
          return {
            ...request,
            method: call.method ?? 'POST',
            path: call.path,
            headers: { 'content-type': 'application/json', ...call.headers },
            body: call.body ?? '',
          };
        },
        onResponse: (status, body, context) => {
          const i = context.i as number;
          statuses[status] = (statuses[status] ?? 0) + 1;
          if (status >= 400) {
            const code = errorCode(body);
            codes[code] = (codes[code] ?? 0) + 1;
          }
          spec.onAnswer?.(i, status, body);
        },
      },
    ],
  });
  const startedAt = performance.now();
  instance.on('response', (_client: unknown, _status: number, _bytes: number, ms: number) => {
    if (answered < count) latencies[answered] = ms;
    answered++;
    lastAnswerAt = performance.now();
  });
  let stoppedEarly = false;
  const bound = setTimeout(() => {
    stoppedEarly = true;
    instance.stop();
  }, spec.maxSeconds * 1000);
  const result = await instance;
  clearTimeout(bound);

  const seconds = ((lastAnswerAt || performance.now()) - startedAt) / 1000;
  return {
    requested: Math.min(next, count),
    answered,
    seconds,
    rate: seconds > 0 ? answered / seconds : 0,
    statuses,
    codes,
    latencyMs: percentiles(latencies.subarray(0, Math.min(answered, count))),
    failures: result.errors + result.timeouts,
    load: [load0, loadavg()[0]],
    startedAt,
    stoppedEarly,
  };
}

/** Exact percentiles of the recorded latencies (nearest rank). */
export function percentiles(values: Float64Array): Latency {
  if (values.length === 0) return { p50: NaN, p95: NaN, p99: NaN, max: NaN };
  const sorted = Float64Array.from(values).sort();
  const at = (p: number) => sorted[Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1)];
  return { p50: at(0.5), p95: at(0.95), p99: at(0.99), max: sorted[sorted.length - 1] };
}

function errorCode(body: string): string {
  try {
    const parsed = JSON.parse(body) as { error?: unknown };
    return typeof parsed.error === 'string' ? parsed.error : 'no-code';
  } catch {
    return 'not-json';
  }
}
