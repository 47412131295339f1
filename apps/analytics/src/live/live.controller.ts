import { Controller, Get, Inject, Param, Req, Res } from '@nestjs/common';
import { ApiBearerAuth, ApiProduces, ApiTags } from '@nestjs/swagger';
import { AllowQueryToken, CurrentPrincipal, RequireRoles } from '@flashdrop/auth';
import { FlashdropConfig } from '@flashdrop/config';
import { Principal } from '@flashdrop/contracts';
import { MetricsRegistry, openEventStream } from '@flashdrop/http';
import { FastifyReply, FastifyRequest } from 'fastify';
import { Counter, Gauge } from 'prom-client';
import { DropAccess } from '../access/drop-access.service';
import { LiveAdmission } from './live-admission';
import { LiveHub } from './live-hub';

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
   * caller and in all (LiveAdmission), unread bytes per reader (libs/http openEventStream), and the
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
    const stream = openEventStream(request, reply, {
      endsAtMs: principal.exp * 1000,
      onEnd: (reason) => {
        if (reason !== 'closed') this.ended.inc({ reason });
        unsubscribe();
        this.admission.release(principal.sub);
      },
    });
    const unsubscribe = this.hub.subscribe(id, stream);
  }
}
