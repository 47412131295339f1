import { Body, Controller, Delete, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import { CurrentPrincipal, RequireRoles } from '@flashdrop/auth';
import { Principal } from '@flashdrop/contracts';
import { BrandBacklog, DeliveryView } from '@flashdrop/webhooks';
import { CreateWebhookDto, DeliveriesQuery, WebhookView } from './webhooks.dto';
import { WebhooksService } from './webhooks.service';

@ApiTags('fulfilment')
@ApiBearerAuth()
@RequireRoles('brand')
@Controller('v1/webhooks')
export class WebhooksController {
  constructor(private readonly webhooks: WebhooksService) {}

  /** POST /v1/webhooks: 201 with the secret, shown this once. */
  @Post()
  create(@CurrentPrincipal() p: Principal, @Body() body: CreateWebhookDto): Promise<WebhookView> {
    return this.webhooks.create(p.sub, body);
  }

  @Get()
  list(@CurrentPrincipal() p: Principal): Promise<WebhookView[]> {
    return this.webhooks.list(p.sub);
  }

  @Delete(':id')
  @HttpCode(204)
  remove(@CurrentPrincipal() p: Principal, @Param('id') id: string): Promise<void> {
    return this.webhooks.remove(p.sub, id);
  }

  /** GET /v1/webhooks/:id/deliveries: recent deliveries, each with its attempts' status codes. */
  @Get(':id/deliveries')
  deliveries(
    @CurrentPrincipal() p: Principal,
    @Param('id') id: string,
    @Query() query: DeliveriesQuery,
  ): Promise<{ items: DeliveryView[] }> {
    return this.webhooks.deliveries(p.sub, id, query.limit ?? 50);
  }
}

/** GET /v1/ops/webhooks: every brand's deliveries pending, failing and failed (the dashboard). */
@ApiTags('ops')
@ApiBearerAuth()
@RequireRoles('operator')
@Controller('v1/ops/webhooks')
export class OpsWebhooksController {
  constructor(private readonly webhooks: WebhooksService) {}

  @Get()
  backlog(): Promise<BrandBacklog[]> {
    return this.webhooks.backlog();
  }
}
