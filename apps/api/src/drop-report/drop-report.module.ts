import { Module } from '@nestjs/common';
import { AnalyticsProxyModule } from '../analytics-proxy/analytics-proxy.module';
import { DropsModule } from '../drops/drops.module';
import { DropReportController } from './drop-report.controller';
import { DropReportService } from './drop-report.service';

/** The report after the sale (docs/fulfilment.md), read from PostgreSQL and analytics. */
@Module({
  imports: [DropsModule, AnalyticsProxyModule],
  controllers: [DropReportController],
  providers: [DropReportService],
})
export class DropReportModule {}
