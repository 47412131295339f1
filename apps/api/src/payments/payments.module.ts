import { Module } from '@nestjs/common';
import { WalletModule } from '../wallet/wallet.module';
import { PaymentsController } from './payments.controller';
import { PaymentsService } from './payments.service';

/** Checkout: POST /v1/orders/:id/payment (apps/wallet/PAYMENTS.md). */
@Module({
  imports: [WalletModule],
  controllers: [PaymentsController],
  // Inventory comes from the global InventoryModule.
  providers: [PaymentsService],
})
export class PaymentsModule {}
