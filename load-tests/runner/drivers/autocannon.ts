import autocannon from 'autocannon';
import { loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import { DriveResult, DriveSpec, errorCode, generatorUse, percentiles } from '../drive-spec';

/**
 * The fallback generator, inside this process: `count` requests built by `call(i)`, each index
 * exactly once, over `connections` keep-alive connections. autocannon keeps one request in
 * flight per connection (pipelining 1), so the per-connection context holds the index of the
 * request whose answer arrives next. With a `rate` it paces each connection with timers: not a
 * true open model (a slow answer delays that connection's next request), which the compiled
 * open-model generator (vegeta) is.
 */
export async function driveAutocannon(spec: DriveSpec): Promise<DriveResult> {
  const count = spec.count;
  const connections = Math.max(1, Math.min(spec.connections, count));
  const latencies = new Float64Array(count);
  const byStatus = new Map<number, number[]>();
  const statuses: Record<string, number> = {};
  const codes: Record<string, number> = {};
  const keep = new Set(spec.keepBodies ?? []);
  const bodies: string[] = [];
  const lastAnswerAt: Record<string, number> = {};
  let next = 0;
  let answered = 0;
  let lastAnswerAnyAt = 0;
  const load0 = loadavg()[0];
  const cpu0 = process.cpuUsage();

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
            headers: {
              'content-type': 'application/json',
              ...(call.headers?.authorization ? { authorization: call.headers.authorization } : {}),
            },
            body: call.body ?? '',
          };
        },
        onResponse: (status, body) => {
          statuses[status] = (statuses[status] ?? 0) + 1;
          lastAnswerAt[status] = performance.now();
          if (status >= 400) {
            const code = errorCode(body);
            codes[code] = (codes[code] ?? 0) + 1;
          }
          if (keep.has(status)) bodies.push(body);
        },
      },
    ],
  });
  const startedAt = performance.now();
  instance.on('response', (_client: unknown, status: number, _bytes: number, ms: number) => {
    if (answered < count) latencies[answered] = ms;
    const ofStatus = byStatus.get(status) ?? [];
    if (ofStatus.length === 0) byStatus.set(status, ofStatus);
    ofStatus.push(ms);
    answered++;
    lastAnswerAnyAt = performance.now();
  });
  let stoppedEarly = false;
  const bound = setTimeout(() => {
    stoppedEarly = true;
    instance.stop();
  }, spec.maxSeconds * 1000);
  const result = await instance;
  clearTimeout(bound);

  const seconds = ((lastAnswerAnyAt || performance.now()) - startedAt) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const lastAnswerSeconds: Record<string, number> = {};
  for (const [status, at] of Object.entries(lastAnswerAt)) {
    lastAnswerSeconds[status] = (at - startedAt) / 1000;
  }
  return {
    requested: Math.min(next, count),
    answered,
    seconds,
    rate: seconds > 0 ? answered / seconds : 0,
    statuses,
    codes,
    latencyMs: percentiles(latencies.subarray(0, Math.min(answered, count))),
    latencyByStatusMs: Object.fromEntries(
      [...byStatus].map(([status, ms]) => [String(status), percentiles(Float64Array.from(ms))]),
    ),
    failures: result.errors + result.timeouts,
    load: [load0, loadavg()[0]],
    stoppedEarly,
    bodies,
    lastAnswerSeconds,
    // The whole runner process: during a run it is almost all autocannon's work.
    generator: generatorUse('autocannon', (cpu.user + cpu.system) / 1e6, seconds),
  };
}
