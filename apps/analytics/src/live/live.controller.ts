import { Controller, Get, Inject, Param, Req, Res } from '@nestjs/common';
import { ApiBearerAuth, ApiProduces, ApiTags } from '@nestjs/swagger';
import { AllowQueryToken, CurrentPrincipal, RequireRoles } from '@flashdrop/auth';
import { FlashdropConfig } from '@flashdrop/config';
import { Principal } from '@flashdrop/contracts';
import { MetricsRegistry } from '@flashdrop/http';
import { FastifyReply, FastifyRequest } from 'fastify';
import { Counter, Gauge } from 'prom-client';
import { DropAccess } from '../access/drop-access.service';
import { LiveAdmission } from './live-admission';
import { LiveHub } from './live-hub';

/**
 * What a reader may leave unread before it is dropped: a few dozen frames. A client that stops
 * reading (or reads slower than frames come) would otherwise make this process buffer every
 * frame for it, without bound. Past this the connection is destroyed; EventSource reconnects
 * and starts again from a fresh snapshot.
 */
export const LIVE_MAX_UNREAD_BYTES = 256 * 1024;
/** setTimeout's longest delay; a longer wait is taken in steps. */
const MAX_TIMER_MS = 2 ** 31 - 1;

@ApiTags('stats')
@ApiBearerAuth()
@Controller('v1/drops/:id/live')
export class LiveController {
  private readonly admission: LiveAdmission;
  private readonly open: Gauge;
  private readonly ended: Counter<'reason'>;

  constructor(
    private readonly access: DropAccess,
    private readonly hub: LiveHub,
    @Inject(FlashdropConfig) config: FlashdropConfig,
    metrics: MetricsRegistry,
  ) {
    this.admission = new LiveAdmission(config.LIVE_STREAMS_PER_CALLER, config.LIVE_STREAMS_MAX);
    this.open = new Gauge({
      name: 'live_streams_open',
      help: 'Live streams this process serves now',
      registers: [metrics.registry],
      collect: () => this.open.set(this.admission.size),
    });
    this.ended = new Counter({
      name: 'live_streams_ended_total',
      help: 'Live streams ended by this process, by reason (slow_reader, token_expired)',
      labelNames: ['reason'] as const,
      registers: [metrics.registry],
    });
  }

  /**
   * GET /v1/drops/:id/live: a stats snapshot as a server-sent event at least every second and
   * within ~100 ms of a change. Same access as the stats route; the token may come as
   * `?access_token=` because a browser's EventSource cannot set headers. Bounded: streams per
   * caller and in all (LiveAdmission), unread bytes per reader (LIVE_MAX_UNREAD_BYTES), and the
   * token's lifetime: the stream ends when the token expires (a reconnect needs a valid one).
   */
  @Get()
  @RequireRoles('operator', 'brand')
  @AllowQueryToken()
  @ApiProduces('text/event-stream')
  async live(
    @Param('id') id: string,
    @CurrentPrincipal() principal: Principal,
    @Req() request: FastifyRequest,
    @Res() reply: FastifyReply,
  ): Promise<void> {
    // Refusals (404, 429, 503) happen here, before the stream starts, as ordinary error bodies.
    await this.access.assertCanRead(principal, id);
    this.admission.admit(principal.sub);
    reply.hijack();
    const raw = reply.raw;
    raw.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache, no-transform',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
      'x-request-id': String(request.id),
    });
    raw.write('retry: 1000\n\n');
    const unsubscribe = this.hub.subscribe(id, {
      write: (frame) => {
        // Back-pressure: a reader this far behind is dropped, not buffered for.
        if (raw.writableLength <= LIVE_MAX_UNREAD_BYTES) raw.write(frame);
        else if (!raw.destroyed) {
          this.ended.inc({ reason: 'slow_reader' });
          raw.destroy();
        }
      },
    });
    let expiry: NodeJS.Timeout | undefined;
    const endAtExpiry = () => {
      const left = principal.exp * 1000 - Date.now();
      if (left > 0) {
        expiry = setTimeout(endAtExpiry, Math.min(left, MAX_TIMER_MS));
        return;
      }
      this.ended.inc({ reason: 'token_expired' });
      raw.end('event: expired\ndata: {"error":"UNAUTHENTICATED","message":"token expired"}\n\n');
    };
    endAtExpiry();
    // The response's 'close': it ended (expiry), was destroyed (slow reader) or its connection
    // went away; exactly once per stream.
    raw.once('close', () => {
      clearTimeout(expiry);
      unsubscribe();
      this.admission.release(principal.sub);
    });
  }
}
