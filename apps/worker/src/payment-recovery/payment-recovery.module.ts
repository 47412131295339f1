import { Module } from '@nestjs/common';
import { FlashdropConfig } from '@flashdrop/config';
import { WalletClient } from '@flashdrop/contracts';
import { PaymentRecoveryJob } from './payment-recovery.job';
import { PaymentRecoveryService } from './payment-recovery.service';

/**
 * Finishes or undoes payments left in `paying` after a crash (apps/wallet/PAYMENTS.md).
 * Inventory comes from the global InventoryModule.
 */
@Module({
  providers: [
    PaymentRecoveryService,
    PaymentRecoveryJob,
    {
      provide: WalletClient,
      inject: [FlashdropConfig],
      useFactory: (config: FlashdropConfig) =>
        new WalletClient({
          host: config.WALLET_HOST,
          port: config.WALLET_PORT,
          timeoutMs: config.WALLET_TIMEOUT_MS,
        }),
    },
  ],
  exports: [PaymentRecoveryService],
})
export class PaymentRecoveryModule {}
