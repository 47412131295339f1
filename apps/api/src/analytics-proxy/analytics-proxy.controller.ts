import { Controller, Get, Req, Res } from '@nestjs/common';
import { ApiBearerAuth, ApiExcludeEndpoint, ApiProduces, ApiQuery, ApiTags } from '@nestjs/swagger';
import { ApiRefusals } from '@flashdrop/http';
import { AllowQueryToken, Public, RequireRoles } from '@flashdrop/auth';
import { FastifyReply, FastifyRequest } from 'fastify';
import { AnalyticsProxy } from './analytics-proxy.service';

/**
 * The routes apps/analytics answers, on the one public origin. The role is checked here (a
 * fan's or a forged token never reaches analytics); analytics checks again and decides drop
 * ownership, since it is the one that reads the drop.
 */
@ApiTags('stats')
@Controller()
export class AnalyticsProxyController {
  constructor(private readonly proxy: AnalyticsProxy) {}

  /** GET /v1/drops/:id/stats (operator, or the owner brand). */
  @Get('v1/drops/:id/stats')
  @ApiBearerAuth()
  @RequireRoles('operator', 'brand')
  stats(@Req() request: FastifyRequest, @Res() reply: FastifyReply): Promise<void> {
    return this.proxy.forward(request, reply);
  }

  /** GET /v1/drops/:id/live: server-sent stats snapshots (token also as ?access_token=). */
  @Get('v1/drops/:id/live')
  @ApiBearerAuth()
  @ApiProduces('text/event-stream')
  @ApiQuery({ name: 'access_token', required: false, description: 'The token, for EventSource' })
  @ApiRefusals('TOO_MANY_REQUESTS')
  @RequireRoles('operator', 'brand')
  @AllowQueryToken()
  live(@Req() request: FastifyRequest, @Res() reply: FastifyReply): Promise<void> {
    return this.proxy.forward(request, reply);
  }

  /** GET /v1/ops/drops: the drops the dashboard's picker lists (operators). */
  @Get('v1/ops/drops')
  @ApiBearerAuth()
  @RequireRoles('operator')
  opsDrops(@Req() request: FastifyRequest, @Res() reply: FastifyReply): Promise<void> {
    return this.proxy.forward(request, reply);
  }

  /** GET /ops: the operators' live dashboard. */
  @Get('ops')
  @Public()
  @ApiProduces('text/html')
  ops(@Req() request: FastifyRequest, @Res() reply: FastifyReply): Promise<void> {
    return this.proxy.forward(request, reply);
  }

  /** GET /ops/report?drop=ID: the report after the sale, drawn (for the owner brand or an operator). */
  @Get('ops/report')
  @Public()
  @ApiProduces('text/html')
  opsReport(@Req() request: FastifyRequest, @Res() reply: FastifyReply): Promise<void> {
    return this.proxy.forward(request, reply);
  }

  @Get('ops/assets/:name')
  @Public()
  @ApiExcludeEndpoint()
  opsAsset(@Req() request: FastifyRequest, @Res() reply: FastifyReply): Promise<void> {
    return this.proxy.forward(request, reply);
  }
}
