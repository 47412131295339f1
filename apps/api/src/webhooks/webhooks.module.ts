import { Module } from '@nestjs/common';
import { WebhooksModule as WebhooksStoreModule } from '@flashdrop/webhooks';
import { OpsWebhooksController, WebhooksController } from './webhooks.controller';
import { WebhooksService } from './webhooks.service';

/** Brands' webhooks (docs/api.md "Brands' fulfilment"); the notifier delivers them. */
@Module({
  imports: [WebhooksStoreModule],
  controllers: [WebhooksController, OpsWebhooksController],
  providers: [WebhooksService],
})
export class WebhooksModule {}
