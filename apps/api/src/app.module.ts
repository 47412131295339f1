import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AuthModule } from '@flashdrop/auth';
import { ConfigModule, FlashdropConfig } from '@flashdrop/config';
import { KafkaModule } from '@flashdrop/events';
import { LoggerModule, MetricsModule } from '@flashdrop/http';
import { RedisModule } from '@flashdrop/persistence';
import { salesDatabaseOptions } from './database/sales-database';
import { HealthModule } from './health/health.module';
import { PaymentsModule } from './payments/payments.module';
import { WalletModule } from './wallet/wallet.module';
import { AnalyticsProxyModule } from './analytics-proxy/analytics-proxy.module';
import { InventoryModule } from '@flashdrop/inventory';
import { DropsModule } from './drops/drops.module';
import { OrdersModule } from './orders/orders.module';
import { PurchaseModule } from './purchase/purchase.module';
import { ReservationsModule } from './reservations/reservations.module';
import { SharesModule } from './shares/shares.module';

/** The public origin: every route of API.md answers here, whatever service serves it. */
@Module({
  imports: [
    ConfigModule.forRoot(),
    LoggerModule.forService('api'),
    AuthModule,
    MetricsModule,
    RedisModule,
    KafkaModule,
    TypeOrmModule.forRootAsync({
      inject: [FlashdropConfig],
      useFactory: (config: FlashdropConfig) => ({
        ...salesDatabaseOptions(config),
        retryAttempts: 3,
        retryDelay: 1000,
      }),
    }),
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
  ],
})
export class AppModule {}
