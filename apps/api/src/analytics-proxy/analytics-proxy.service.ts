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
