import { Controller, Get, Param, Req, Res } from '@nestjs/common';
import { ApiBearerAuth, ApiProduces, ApiTags } from '@nestjs/swagger';
import { AllowQueryToken, CurrentPrincipal, RequireRoles } from '@flashdrop/auth';
import { Principal } from '@flashdrop/contracts';
import { FastifyReply, FastifyRequest } from 'fastify';
import { DropAccess } from '../access/drop-access.service';
import { LiveHub } from './live-hub';

@ApiTags('stats')
@ApiBearerAuth()
@Controller('v1/drops/:id/live')
export class LiveController {
  constructor(
    private readonly access: DropAccess,
    private readonly hub: LiveHub,
  ) {}

  /**
   * GET /v1/drops/:id/live: a stats snapshot as a server-sent event at least every second and
   * within ~100 ms of a change. Same access as the stats route; the token may come as
   * `?access_token=` because a browser's EventSource cannot set headers.
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
    // Refusals (404) happen here, before the stream starts, as ordinary error bodies.
    await this.access.assertCanRead(principal, id);
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
    const unsubscribe = this.hub.subscribe(id, { write: (frame) => raw.write(frame) });
    request.raw.on('close', unsubscribe);
  }
}
