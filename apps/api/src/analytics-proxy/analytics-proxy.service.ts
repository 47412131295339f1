import { Inject, Injectable, Logger } from '@nestjs/common';
import { FlashdropConfig } from '@flashdrop/config';
import { DomainError } from '@flashdrop/contracts';
import { FastifyReply, FastifyRequest } from 'fastify';
import { Readable } from 'node:stream';
import { ReadableStream } from 'node:stream/web';

/** Request headers worth passing on: who calls, what they accept, and the request id for logs. */
const FORWARDED_REQUEST_HEADERS = ['authorization', 'accept', 'x-request-id', 'last-event-id'];
/** Response headers passed back (hop-by-hop ones such as transfer-encoding are not). */
const FORWARDED_RESPONSE_HEADERS = [
  'content-type',
  'cache-control',
  'x-accel-buffering',
  'retry-after',
];

/**
 * Forwards a request to apps/analytics over HTTP and streams its answer back unchanged (status,
 * body, error bodies). HTTP rather than a Nest microservice transport because the live route is
 * a long-lived text/event-stream, which a request/response transport cannot carry; one plain
 * forwarder serves the JSON routes and the dashboard's files the same way.
 */
@Injectable()
export class AnalyticsProxy {
  private readonly logger = new Logger(AnalyticsProxy.name);
  private readonly base: string;

  constructor(@Inject(FlashdropConfig) config: FlashdropConfig) {
    this.base = `http://${config.ANALYTICS_HOST}:${config.ANALYTICS_HTTP_PORT}`;
  }

  /**
   * A drop's stats as analytics answers them to this caller (the caller's own authorization is
   * passed on, so analytics decides access as for GET /v1/drops/:id/stats), or undefined when
   * analytics does not answer 200 in time: a caller that can do without them (the report).
   */
  async statsOf(
    dropId: string,
    authorization: string | undefined,
    timeoutMs = 2000,
  ): Promise<Record<string, unknown> | undefined> {
    try {
      const res = await fetch(`${this.base}/v1/drops/${encodeURIComponent(dropId)}/stats`, {
        headers: authorization === undefined ? {} : { authorization },
        signal: AbortSignal.timeout(timeoutMs),
      });
      if (res.status !== 200) return undefined;
      return (await res.json()) as Record<string, unknown>;
    } catch (error) {
      this.logger.warn(`analytics stats unavailable: ${String(error)}`);
      return undefined;
    }
  }

  async forward(request: FastifyRequest, reply: FastifyReply): Promise<void> {
    const headers: Record<string, string> = {};
    for (const name of FORWARDED_REQUEST_HEADERS) {
      const value = request.headers[name];
      if (typeof value === 'string') headers[name] = value;
    }
    headers['x-request-id'] ??= String(request.id);
    // The upstream request lives as long as the caller's connection (an SSE stream for hours).
    const abort = new AbortController();
    request.raw.once('close', () => abort.abort());
    let upstream: Response;
    try {
      upstream = await fetch(`${this.base}${request.url}`, {
        method: 'GET',
        headers,
        signal: abort.signal,
      });
    } catch (error) {
      this.logger.warn(`analytics unreachable: ${String(error)}`);
      throw new DomainError('SERVICE_UNAVAILABLE', 'analytics is not answering');
    }
    void reply.status(upstream.status);
    for (const name of FORWARDED_RESPONSE_HEADERS) {
      const value = upstream.headers.get(name);
      if (value !== null) void reply.header(name, value);
    }
    if (!upstream.body) return reply.send();
    const body = Readable.fromWeb(upstream.body as ReadableStream<Uint8Array>);
    // A stream cut by analytics (restart) ends the caller's stream; EventSource reconnects.
    body.on('error', () => undefined);
    return reply.send(body);
  }
}
