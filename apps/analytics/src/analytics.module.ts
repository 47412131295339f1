import { Controller, Get, Module } from '@nestjs/common';
import { AuthModule, Public } from '@flashdrop/auth';
import { ConfigModule } from '@flashdrop/config';
import { LoggerModule, MetricsModule } from '@flashdrop/http';

@Public()
@Controller('health')
class AnalyticsHealthController {
  @Get('live')
  live(): { status: 'ok' } {
    return { status: 'ok' };
  }
}

/** Kafka consumers, per-drop stats, the live stream and the operators' page. */
@Module({
  imports: [
    ConfigModule.forRoot(),
    LoggerModule.forService('analytics'),
    AuthModule,
    MetricsModule,
  ],
  controllers: [AnalyticsHealthController],
})
export class AnalyticsModule {}
