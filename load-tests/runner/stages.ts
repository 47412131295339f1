import type Redis from 'ioredis';

/**
 * Where a steady run's tail goes, stage by stage, read around the run from what each process
 * already exposes (nothing is added to the hot path):
 * - each Node service's event-loop delay (p99, max) and garbage-collection pauses over the run,
 *   from its Prometheus /metrics (prom-client's default metrics: the event-loop histogram is
 *   reset at every scrape, the GC histogram is diffed), and the floor's from its /stages;
 * - the API's own handling time of the route (its http_request_duration_seconds, diffed): what
 *   the server spent between reading the request and writing the answer, without the queueing
 *   in front of it;
 * - Redis: the CPU per script call (INFO commandstats, diffed) and its latency monitor's worst
 *   `aof-fsync-always` (the fsync every write waits for), `command` and `fast-command` events;
 * - the event pipeline's relay: its batches to Kafka, their size and the wait of their oldest
 *   entry (the worker's relay_batch_* histograms, diffed).
 */
export interface ProcessStages {
  readonly name: string;
  readonly eventLoopP99Ms?: number;
  readonly eventLoopMaxMs?: number;
  /** GC pause time over the run, and its share of the run's wall time. */
  readonly gcMs?: number;
  readonly gcShare?: number;
  /** The server's own handling time of the measured route (API only): p50, p99 by bucket. */
  readonly handlingP50Ms?: number;
  readonly handlingP99Ms?: number;
  /** The stream relay's batches over the run (the worker that leads it). */
  readonly relay?: { batches: number; entriesPerBatch: number; oldestWaitP99Ms: number };
}

export interface RedisStages {
  readonly scriptCalls: number;
  readonly usPerScriptCall: number;
  /** Worst latency-monitor event of each kind seen over the run, in ms (absent: none >= 1 ms). */
  readonly worstMs: Readonly<Record<string, number>>;
}

export interface Stages {
  readonly seconds: number;
  readonly processes: readonly ProcessStages[];
  readonly redis?: RedisStages;
}

/** A Node process whose stages are read: its metrics URL (Prometheus text or the floor's JSON). */
export interface StageSource {
  readonly name: string;
  readonly url: string;
  readonly kind: 'prometheus' | 'floor';
  /** The route whose handling time is read (Prometheus sources with the http histogram). */
  readonly route?: string;
}

type Samples = Map<string, number>;

/** Reads the stages around `run`: a snapshot before (which also resets the event-loop window), one after. */
export async function withStages<T>(
  sources: readonly StageSource[],
  redis: Redis | undefined,
  run: () => Promise<T>,
): Promise<{ result: T; stages: Stages }> {
  if (redis) {
    await redis.config('SET', 'latency-monitor-threshold', '1').catch(() => undefined);
    await redis.call('LATENCY', 'RESET').catch(() => undefined);
  }
  const before = await Promise.all(sources.map(read));
  const redisBefore = redis ? await commandStats(redis) : undefined;
  const t0 = Date.now();
  const result = await run();
  const seconds = (Date.now() - t0) / 1000;
  const after = await Promise.all(sources.map(read));
  const processes = sources.map((s, i) => stagesOf(s, before[i], after[i], seconds));
  let redisStages: RedisStages | undefined;
  if (redis && redisBefore) {
    const redisAfter = await commandStats(redis);
    const calls = redisAfter.calls - redisBefore.calls;
    redisStages = {
      scriptCalls: calls,
      usPerScriptCall: (redisAfter.usec - redisBefore.usec) / Math.max(1, calls),
      worstMs: await latencyWorst(redis),
    };
  }
  return { result, stages: { seconds, processes, redis: redisStages } };
}

async function read(source: StageSource): Promise<Samples | undefined> {
  try {
    const res = await fetch(source.url, { signal: AbortSignal.timeout(5_000) });
    const text = await res.text();
    return source.kind === 'prometheus' ? parsePrometheus(text) : parseFloor(text);
  } catch {
    return undefined;
  }
}

/** `name{labels} value` lines, keyed by `name{labels}` exactly as written. */
export function parsePrometheus(text: string): Samples {
  const samples: Samples = new Map();
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const at = line.lastIndexOf(' ');
    samples.set(line.slice(0, at), Number(line.slice(at + 1)));
  }
  return samples;
}

/** The floor's /stages JSON, as the same kind of samples. */
function parseFloor(text: string): Samples {
  const j = JSON.parse(text) as { eventLoopP99Ms: number; eventLoopMaxMs: number; gcMs: number };
  return new Map([
    ['nodejs_eventloop_lag_p99_seconds', j.eventLoopP99Ms / 1000],
    ['nodejs_eventloop_lag_max_seconds', j.eventLoopMaxMs / 1000],
    ['gc_ms_total', j.gcMs],
  ]);
}

function stagesOf(
  source: StageSource,
  before: Samples | undefined,
  after: Samples | undefined,
  seconds: number,
): ProcessStages {
  if (!before || !after) return { name: source.name };
  const ms = (key: string) => (after.get(key) ?? NaN) * 1000;
  const gcMs =
    source.kind === 'floor'
      ? (after.get('gc_ms_total') ?? NaN) - (before.get('gc_ms_total') ?? 0)
      : sumDiff(before, after, (k) => k.startsWith('nodejs_gc_duration_seconds_sum')) * 1000;
  const handling = source.route
    ? histogram(before, after, 'http_request_duration_seconds', `route="${source.route}"`)
    : undefined;
  const batchDelay = histogram(before, after, 'relay_batch_delay_seconds');
  const batches = batchDelay.length ? batchDelay[batchDelay.length - 1][1] : 0;
  const entries =
    (after.get('relay_batch_entries_sum') ?? 0) - (before.get('relay_batch_entries_sum') ?? 0);
  return {
    name: source.name,
    eventLoopP99Ms: ms('nodejs_eventloop_lag_p99_seconds'),
    eventLoopMaxMs: ms('nodejs_eventloop_lag_max_seconds'),
    gcMs,
    gcShare: gcMs / (seconds * 1000),
    handlingP50Ms: handling ? bucketQuantile(handling, 0.5) * 1000 : undefined,
    handlingP99Ms: handling ? bucketQuantile(handling, 0.99) * 1000 : undefined,
    relay:
      batches > 0
        ? {
            batches,
            entriesPerBatch: entries / batches,
            oldestWaitP99Ms: bucketQuantile(batchDelay, 0.99) * 1000,
          }
        : undefined,
  };
}

function sumDiff(before: Samples, after: Samples, match: (key: string) => boolean): number {
  let sum = 0;
  for (const [key, value] of after) if (match(key)) sum += value - (before.get(key) ?? 0);
  return sum;
}

/** A histogram's cumulative buckets over the run: [upper bound, count], ascending. */
function histogram(before: Samples, after: Samples, name: string, label = ''): [number, number][] {
  const buckets: [number, number][] = [];
  for (const [key, value] of after) {
    if (!key.startsWith(`${name}_bucket{`) || !key.includes(label)) continue;
    const le = /le="([^"]+)"/.exec(key)?.[1];
    if (le === undefined) continue;
    buckets.push([le === '+Inf' ? Infinity : Number(le), value - (before.get(key) ?? 0)]);
  }
  return buckets.sort((a, b) => a[0] - b[0]);
}

/** A quantile from cumulative buckets, interpolated inside its bucket (as Prometheus does). */
export function bucketQuantile(buckets: readonly [number, number][], q: number): number {
  const total = buckets.length ? buckets[buckets.length - 1][1] : 0;
  if (total === 0) return NaN;
  const rank = q * total;
  let lower = 0;
  let below = 0;
  for (const [upper, count] of buckets) {
    if (count >= rank) {
      if (upper === Infinity) return lower;
      return lower + ((upper - lower) * (rank - below)) / Math.max(1, count - below);
    }
    lower = upper;
    below = count;
  }
  return lower;
}

async function commandStats(redis: Redis): Promise<{ calls: number; usec: number }> {
  const info = await redis.info('commandstats');
  let calls = 0;
  let usec = 0;
  for (const m of info.matchAll(/cmdstat_(?:evalsha|eval|fcall)[^:]*:calls=(\d+),usec=(\d+)/g)) {
    calls += Number(m[1]);
    usec += Number(m[2]);
  }
  return { calls, usec };
}

async function latencyWorst(redis: Redis): Promise<Record<string, number>> {
  const rows = (await redis.call('LATENCY', 'LATEST').catch(() => [])) as [
    string,
    number,
    number,
    number,
  ][];
  const worst: Record<string, number> = {};
  for (const [event, , , max] of rows) worst[event] = Number(max);
  return worst;
}

/** The stages as Markdown lines for the report. */
export function renderStages(title: string, stages: Stages): string {
  const f = (v: number | undefined, digits = 1) =>
    v === undefined || Number.isNaN(v) ? 'n/a' : v.toFixed(digits);
  const lines = [
    `${title} (${stages.seconds.toFixed(1)} s):`,
    '',
    '| process | event-loop delay p99 / max (ms) | GC pauses (ms, share of the run) | handling p50 / p99 (ms) | relay batches (entries each, oldest waited p99) |',
    '| --- | --- | --- | --- | --- |',
    ...stages.processes.map(
      (p) =>
        `| ${p.name} | ${f(p.eventLoopP99Ms)} / ${f(p.eventLoopMaxMs)} | ${f(p.gcMs, 0)} (${f(
          p.gcShare === undefined ? undefined : p.gcShare * 100,
        )}%) | ${p.handlingP99Ms === undefined ? '' : `${f(p.handlingP50Ms, 2)} / ${f(p.handlingP99Ms, 2)}`} | ${
          p.relay
            ? `${p.relay.batches} (${f(p.relay.entriesPerBatch)}, ${f(p.relay.oldestWaitP99Ms)} ms)`
            : ''
        } |`,
    ),
  ];
  if (stages.redis) {
    const worst = Object.entries(stages.redis.worstMs)
      .map(([event, ms]) => `${event} ${ms} ms`)
      .join(', ');
    lines.push(
      '',
      `Redis: ${stages.redis.scriptCalls.toLocaleString('en-US')} script calls at ` +
        `${f(stages.redis.usPerScriptCall)} us each; worst latency-monitor events: ${worst || 'none >= 1 ms'}.`,
    );
  }
  return lines.join('\n');
}
