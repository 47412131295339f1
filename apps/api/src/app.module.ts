import { Module } from '@nestjs/common';
import { AuthModule } from '@flashdrop/auth';
import { ConfigModule } from '@flashdrop/config';
import { KafkaModule } from '@flashdrop/events';
import { LoggerModule, MetricsModule } from '@flashdrop/http';
import { InventoryModule } from '@flashdrop/inventory';
import { RedisModule } from '@flashdrop/persistence';
import { SalesDatabaseModule } from '@flashdrop/sales';
import { HealthModule } from './health/health.module';
import { PaymentsModule } from './payments/payments.module';
import { WalletModule } from './wallet/wallet.module';
import { AnalyticsProxyModule } from './analytics-proxy/analytics-proxy.module';
import { DropOrdersModule } from './drop-orders/drop-orders.module';
import { DropReportModule } from './drop-report/drop-report.module';
import { DropsModule } from './drops/drops.module';
import { OrdersModule } from './orders/orders.module';
import { RefundsModule } from './refunds/refunds.module';
import { GroupsModule } from './groups/groups.module';
import { PurchaseModule } from './purchase/purchase.module';
import { ReservationsModule } from './reservations/reservations.module';
import { SharesModule } from './shares/shares.module';
import { WebhooksModule } from './webhooks/webhooks.module';
import { WaitlistModule } from './waitlist/waitlist.module';
import { AllocationsModule } from './allocations/allocations.module';
import { DrawsModule } from './draws/draws.module';
import { StandingModule } from './standing/standing.module';

/** The public origin: every route of docs/api.md answers here, whatever service serves it. */
@Module({
  imports: [
    ConfigModule.forRoot(),
    LoggerModule.forService('api'),
    AuthModule,
    MetricsModule,
    // A request never waits on Redis past REDIS_COMMAND_TIMEOUT_MS: it answers 503 instead.
    RedisModule.withCommandDeadline(),
    KafkaModule,
    SalesDatabaseModule,
    HealthModule,
    WalletModule,
    PaymentsModule,
    AnalyticsProxyModule,
    InventoryModule,
    DropsModule,
    ReservationsModule,
    SharesModule,
    PurchaseModule,
    OrdersModule,
    DropOrdersModule,
    DropReportModule,
    WebhooksModule,
    GroupsModule,
    RefundsModule,
    WaitlistModule,
    StandingModule,
    DrawsModule,
    AllocationsModule,
  ],
})
export class AppModule {}
