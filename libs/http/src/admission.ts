import { IncomingMessage, ServerResponse } from 'node:http';
import { randomUUID } from 'node:crypto';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { Counter, Gauge, Registry } from 'prom-client';
import { AtCapacityMessages, ErrorBody } from '@flashdrop/contracts';
import { retryHeaders } from './error-response';

export interface AdmissionOptions {
  /** Requests this process works on at once; past it the answer is an immediate 503. 0 = none. */
  readonly maxInFlight: number;
  /**
   * Event-loop delay (ms, the mean of the last sample window) past which new requests are shed
   * too, below the in-flight bound. 0 = not watched.
   */
  readonly maxEventLoopDelayMs?: number;
  /** Requests never refused nor counted: probes, metrics, long-lived streams. */
  readonly exempt?: (request: { readonly url?: string }) => boolean;
  /** Where the gauge and the counter go (the process's MetricsRegistry). */
  readonly registry?: Registry;
}

/** The gate a server's request listener asks first (RushFront's server). */
export interface Admission {
  /**
   * Admits the request (true: it is counted until its response closes) or answers it 503 at
   * once and returns false (nothing else may touch it).
   */
  admit(request: IncomingMessage, response: ServerResponse): boolean;
  /** Stops the event-loop watch (the server closes). */
  close(): void;
}

/** How often the event-loop delay is judged, and the watch's resolution. */
const LOOP_SAMPLE_MS = 100;
const LOOP_RESOLUTION_MS = 10;

/** Built once: a shed request costs a header block and one write. */
const SHED_BODY = Buffer.from(
  JSON.stringify({
    error: 'SERVICE_UNAVAILABLE',
    message: AtCapacityMessages.requests,
  } satisfies ErrorBody),
);
const SHED_HEADERS: Readonly<Record<string, string>> = {
  ...retryHeaders(503, 1),
  'content-type': 'application/json; charset=utf-8',
  'content-length': String(SHED_BODY.length),
};

/**
 * Admission control (docs/api.md: any route may answer 503 SERVICE_UNAVAILABLE with Retry-After
 * when the service sheds load; docs/bounds.md "Overload"). Without a bound, an overload makes
 * every caller wait: 3,000 fans in flight on two cores were all served, the median after 4.4 s.
 *
 * WHERE it sheds is the point. It runs first in the server's own request listener (RushFront),
 * the moment Node has parsed a request's head: before Fastify makes its request and reply,
 * routes, runs a hook, logs a line or records a metric. A shed request costs one precomputed
 * header block and one buffer. It used to be an onRequest hook of each Fastify instance: the
 * bench's overload step (3,000 fans in flight, bound 512) then took 2-9.5 s at p99 to answer
 * its 503s, because each shed paid most of what a served request pays before its handler, on the
 * same saturated loop as the served ones.
 *
 * TWO bounds:
 * - `maxInFlight`: requests admitted and not yet answered;
 * - `maxEventLoopDelayMs`: while the loop's mean delay over the last 100 ms is above it, every
 *   new request is shed, whatever the count. A count cannot know what each request costs; the
 *   loop's delay is what every caller of this process waits on (the 503s included), so this
 *   keeps it near the bound. (@fastify/under-pressure measures the same, but answers from an
 *   onRequest hook per Fastify instance: after the work this gate avoids, and twice here.)
 *
 * What must stay true: `inFlight` counts each admitted request exactly once, from admission
 * until its response closes (sent, or its connection gone: 'close' fires once either way). A
 * shed request is never counted and never reaches Fastify, a hook or a handler, so it wrote
 * nothing; it is counted in `http_requests_shed_total` (not in the per-route request metrics or
 * the request log, which it never reaches). Node reads and drops a shed request's unread body,
 * so the connection stays usable.
 */
export function admissionControl(options: AdmissionOptions): Admission | undefined {
  const maxDelay = options.maxEventLoopDelayMs ?? 0;
  if (options.maxInFlight <= 0 && maxDelay <= 0) return undefined;
  const maxInFlight = options.maxInFlight > 0 ? options.maxInFlight : Number.POSITIVE_INFINITY;
  let inFlight = 0;
  let lagging = false;
  const registers = options.registry ? [options.registry] : [];
  const shed = new Counter({
    name: 'http_requests_shed_total',
    help: 'Requests answered 503 at once: the process was at its in-flight bound, or its event loop behind',
    labelNames: ['reason'],
    registers,
  });
  const shedFull = shed.labels('in_flight');
  const shedLagging = shed.labels('event_loop_delay');
  new Gauge({
    name: 'http_requests_in_flight',
    help: 'Requests admitted and not yet answered',
    registers,
    collect() {
      this.set(inFlight);
    },
  });

  let watch: ReturnType<typeof setInterval> | undefined;
  if (maxDelay > 0) {
    const delay = monitorEventLoopDelay({ resolution: LOOP_RESOLUTION_MS });
    delay.enable();
    watch = setInterval(() => {
      // The histogram's samples include its own resolution (a timer that was on time reads
      // ~resolution): what is beyond it is the delay.
      lagging = delay.count > 0 && delay.mean / 1e6 - LOOP_RESOLUTION_MS > maxDelay;
      delay.reset();
    }, LOOP_SAMPLE_MS);
    watch.unref();
  }
  const release = () => inFlight--;

  return {
    admit(request, response) {
      if (options.exempt?.(request)) return true;
      const full = inFlight >= maxInFlight;
      if (full || lagging) {
        (full ? shedFull : shedLagging).inc();
        const id = request.headers['x-request-id'];
        response.writeHead(503, {
          ...SHED_HEADERS,
          'x-request-id': typeof id === 'string' ? id : randomUUID(),
        });
        response.end(SHED_BODY);
        return false;
      }
      inFlight++;
      response.once('close', release);
      return true;
    },
    close() {
      if (watch) clearInterval(watch);
    },
  };
}
