import { Module } from '@nestjs/common';
import { WalletModule } from '../wallet/wallet.module';
import { PaymentsRoute } from './payments.route';
import { PaymentsService } from './payments.service';

/**
 * Checkout: POST /v1/orders/:id/payment (apps/wallet/PAYMENTS.md). No controller: PaymentsRoute
 * is mounted on Fastify by createHttpApp (main.ts). Inventory comes from the global
 * InventoryModule.
 */
@Module({
  imports: [WalletModule],
  providers: [PaymentsService, PaymentsRoute],
})
export class PaymentsModule {}
