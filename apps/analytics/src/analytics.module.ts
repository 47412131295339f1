import { Controller, Get, Module } from '@nestjs/common';
import { AuthModule, Public } from '@flashdrop/auth';
import { ConfigModule } from '@flashdrop/config';
import { KafkaModule } from '@flashdrop/events';
import { LoggerModule, MetricsModule } from '@flashdrop/http';
import { InventoryModule } from '@flashdrop/inventory';
import { RedisConnection, RedisModule } from '@flashdrop/persistence';
import { DropAccess } from './access/drop-access.service';
import { EventsConsumerService } from './consumer/events-consumer.service';
import { LiveController } from './live/live.controller';
import { LiveHub } from './live/live-hub';
import { OpsController } from './ops/ops.controller';
import { OpsDrops } from './ops/ops-drops.service';
import { StatsController } from './stats/stats.controller';
import { StatsStore } from './stats/stats-store';

@Public()
@Controller('health')
class AnalyticsHealthController {
  @Get('live')
  live(): { status: 'ok' } {
    return { status: 'ok' };
  }
}

const controllers = [AnalyticsHealthController, StatsController, LiveController, OpsController];

const providers = [
  {
    provide: StatsStore,
    inject: [RedisConnection],
    useFactory: (redis: RedisConnection) => new StatsStore(redis.client),
  },
  DropAccess,
  EventsConsumerService,
  LiveHub,
  OpsDrops,
];

/** Kafka consumers, per-drop stats, the live stream and the operators' page. */
@Module({
  imports: [
    ConfigModule.forRoot(),
    LoggerModule.forService('analytics'),
    AuthModule,
    MetricsModule,
    RedisModule,
    KafkaModule,
    InventoryModule,
  ],
  controllers,
  providers,
})
export class AnalyticsModule {}
