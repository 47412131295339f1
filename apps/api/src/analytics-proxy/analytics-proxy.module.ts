import { Module } from '@nestjs/common';
import { AnalyticsProxyController } from './analytics-proxy.controller';
import { AnalyticsProxy } from './analytics-proxy.service';

/** Stats, the live stream and /ops: answered by apps/analytics, served on the public origin. */
@Module({
  controllers: [AnalyticsProxyController],
  providers: [AnalyticsProxy],
  exports: [AnalyticsProxy],
})
export class AnalyticsProxyModule {}
