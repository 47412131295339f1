import { Controller, Get, Module } from '@nestjs/common';
import { AuthModule, Public } from '@flashdrop/auth';
import { ConfigModule } from '@flashdrop/config';
import { KafkaModule } from '@flashdrop/events';
import { LoggerModule, MetricsModule } from '@flashdrop/http';
import { InventoryModule } from '@flashdrop/inventory';
import { RedisModule } from '@flashdrop/persistence';
import { WebhooksModule } from '@flashdrop/webhooks';
import { BacklogMetrics } from './delivery/backlog-metrics';
import { DeliveryLoop } from './delivery/delivery-loop';
import { WebhookEventsConsumer } from './consumer/webhook-events.consumer';

@Public()
@Controller('health')
class NotifierHealthController {
  @Get('live')
  live(): { status: 'ok' } {
    return { status: 'ok' };
  }
}

const controllers = [NotifierHealthController];
const providers = [DeliveryLoop, WebhookEventsConsumer, BacklogMetrics];

/**
 * The notifier: brands' webhooks, in a process of their own. It reads the published events
 * (Kafka), records one delivery per subscribed webhook, and delivers them, signed, with
 * retries. Apart from the API and the worker so that receivers (slow, hanging, thousands of
 * open connections) share no event loop, memory or sockets with the sale and its pipeline.
 */
@Module({
  imports: [
    ConfigModule.forRoot(),
    LoggerModule.forService('notifier'),
    AuthModule,
    MetricsModule,
    RedisModule,
    KafkaModule,
    InventoryModule,
    WebhooksModule,
  ],
  controllers,
  providers,
})
export class NotifierModule {}
