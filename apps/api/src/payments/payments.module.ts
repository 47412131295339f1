import { Module } from '@nestjs/common';
import { WalletClientModule } from '@flashdrop/wallet-client';
import { PaymentsRoute } from './payments.route';
import { PaymentsService } from './payments.service';

/**
 * Checkout: POST /v1/orders/:id/payment (apps/wallet/PAYMENTS.md). No controller: PaymentsRoute
 * is mounted on Fastify by createHttpApp. Inventory comes from the global
 * InventoryModule.
 */
@Module({
  imports: [WalletClientModule],
  providers: [PaymentsService, PaymentsRoute],
})
export class PaymentsModule {}
