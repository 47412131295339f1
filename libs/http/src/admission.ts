import { FastifyRequest, onRequestHookHandler } from 'fastify';
import { Counter, Gauge, Registry } from 'prom-client';
import { AtCapacityMessages, ErrorBody } from '@flashdrop/contracts';
import { retryHeaders } from './error-response';

export interface AdmissionOptions {
  /** Requests this process works on at once; past it the answer is an immediate 503. 0 = none. */
  readonly maxInFlight: number;
  /** Requests never refused nor counted: probes, metrics, long-lived streams. */
  readonly exempt?: (request: FastifyRequest) => boolean;
  /** Where the gauge and the counter go (the process's MetricsRegistry). */
  readonly registry?: Registry;
}

/** Built once: a shed request costs as little as it can. */
const SHED_BODY = JSON.stringify({
  error: 'SERVICE_UNAVAILABLE',
  message: AtCapacityMessages.requests,
} satisfies ErrorBody);

/**
 * Admission control (docs/api.md: any route may answer 503 SERVICE_UNAVAILABLE with Retry-After when
 * the service sheds load). Without a bound, an overload makes every caller wait: 3,000 fans in
 * flight on two cores were all served, the median after 4.4 s. With one, the requests within the
 * bound are answered at the speed the machine has, and the rest learn at once that they should
 * retry, at the cost of parsing their request and writing a small answer.
 *
 * The answer is the onRequest hook (undefined without a bound), built once per process and added
 * to every Fastify instance of its server (Nest's and the rush's, libs/http RushFront), so that
 * the bound counts every request of the process, whichever instance answers it.
 *
 * What must stay true: `inFlight` counts each admitted request exactly once, from the moment it
 * is admitted until its response closes (sent, or its connection gone): the response's 'close'
 * fires once in either case. A shed request is never counted and never reaches a handler, so it
 * wrote nothing.
 */
export function admissionControl(options: AdmissionOptions): onRequestHookHandler | undefined {
  if (options.maxInFlight <= 0) return undefined;
  let inFlight = 0;
  const registers = options.registry ? [options.registry] : [];
  const shed = new Counter({
    name: 'http_requests_shed_total',
    help: 'Requests answered 503 at once because the process was at its in-flight bound',
    registers,
  });
  new Gauge({
    name: 'http_requests_in_flight',
    help: 'Requests admitted and not yet answered',
    registers,
    collect() {
      this.set(inFlight);
    },
  });
  const headers = { ...retryHeaders(503, 1), 'content-type': 'application/json; charset=utf-8' };
  return (request, reply, done) => {
    if (options.exempt?.(request)) return done();
    if (inFlight >= options.maxInFlight) {
      shed.inc();
      void reply.code(503).headers(headers).send(SHED_BODY);
      return;
    }
    inFlight++;
    reply.raw.once('close', () => inFlight--);
    done();
  };
}
