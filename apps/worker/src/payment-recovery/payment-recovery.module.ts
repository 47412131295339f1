import { Module } from '@nestjs/common';
import { WalletClientModule } from '@flashdrop/wallet-client';
import { PaymentRecoveryJob } from './payment-recovery.job';
import { PaymentRecoveryService } from './payment-recovery.service';

/**
 * Finishes or undoes payments left in `paying` after a crash (apps/wallet/PAYMENTS.md).
 * Inventory comes from the global InventoryModule.
 */
@Module({
  imports: [WalletClientModule],
  providers: [PaymentRecoveryService, PaymentRecoveryJob],
  exports: [PaymentRecoveryService],
})
export class PaymentRecoveryModule {}
