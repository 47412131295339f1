import { Controller, Get, Param, Req, Res } from '@nestjs/common';
import { ApiBearerAuth, ApiProduces, ApiTags } from '@nestjs/swagger';
import { AllowQueryToken, CurrentPrincipal, RequireRoles } from '@flashdrop/auth';
import { DomainError, Principal } from '@flashdrop/contracts';
import { ApiRefusals, openEventStream } from '@flashdrop/http';
import { FastifyReply, FastifyRequest } from 'fastify';
import { StandingHub } from './standing-hub';
import { StandingService, StandingView } from './standing.service';

/** How long a fan refused a stream (at a cap) is told to wait. */
const STREAM_RETRY_AFTER_SECONDS = 5;

@ApiTags('fair launch')
@ApiBearerAuth()
@RequireRoles('fan')
@Controller('v1/drops/:id/me')
export class StandingController {
  constructor(
    private readonly standing: StandingService,
    private readonly hub: StandingHub,
  ) {}

  /** Where the caller stands in a drop: reserved, in line, drawn, their orders, what may come. */
  @Get()
  me(@CurrentPrincipal() p: Principal, @Param('id') id: string): Promise<StandingView> {
    return this.standing.read(id, p.sub);
  }

  /**
   * The same body as a server-sent event stream: when it changes (a hold passed down to the
   * fan within ~1 s) and at least every 5 s. The token may come as `?access_token=` (a
   * browser's EventSource cannot set headers); the stream ends when the token expires.
   */
  @Get('live')
  @AllowQueryToken()
  @ApiRefusals('TOO_MANY_REQUESTS')
  @ApiProduces('text/event-stream')
  async live(
    @CurrentPrincipal() p: Principal,
    @Param('id') id: string,
    @Req() request: FastifyRequest,
    @Res() reply: FastifyReply,
  ): Promise<void> {
    // Refusals (404, the caps) happen before the stream starts, as ordinary error bodies.
    await this.standing.read(id, p.sub);
    const admitted = this.hub.admits(p.sub);
    if (admitted !== 'ok') {
      // The error filter sets Retry-After from the error (libs/http retryHeaders).
      throw admitted === 'fan-full'
        ? DomainError.tooMany('liveStreams', STREAM_RETRY_AFTER_SECONDS)
        : DomainError.atCapacity('liveStreams', STREAM_RETRY_AFTER_SECONDS);
    }
    const stream = openEventStream(request, reply, {
      endsAtMs: p.exp * 1000,
      onEnd: () => unsubscribe(),
    });
    const unsubscribe = this.hub.subscribe(id, p.sub, stream);
  }
}
