import { Module } from '@nestjs/common';
import { Inventory } from '@flashdrop/inventory';
import { RedisConnection } from '@flashdrop/persistence';
import { WalletModule } from '../wallet/wallet.module';
import { PaymentsController } from './payments.controller';
import { PaymentsService } from './payments.service';

/** Checkout: POST /v1/orders/:id/payment (apps/wallet/PAYMENTS.md). */
@Module({
  imports: [WalletModule],
  controllers: [PaymentsController],
  providers: [
    PaymentsService,
    {
      provide: Inventory,
      inject: [RedisConnection],
      useFactory: (redis: RedisConnection) => new Inventory(redis.client),
    },
  ],
})
export class PaymentsModule {}
