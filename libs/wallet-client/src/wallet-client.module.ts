import { Module } from '@nestjs/common';
import { FlashdropConfig } from '@flashdrop/config';
import { WalletClient } from './wallet-client';

/**
 * The process's one connection to the wallet service (WALLET_HOST, WALLET_PORT, every call
 * bounded by WALLET_TIMEOUT_MS, every message signed with WALLET_SECRET when one is set),
 * closed on shutdown. Import it where the wallet is needed.
 */
@Module({
  providers: [
    {
      provide: WalletClient,
      inject: [FlashdropConfig],
      useFactory: (config: FlashdropConfig) =>
        new WalletClient({
          host: config.WALLET_HOST,
          port: config.WALLET_PORT,
          timeoutMs: config.WALLET_TIMEOUT_MS,
          secret: config.WALLET_SECRET,
        }),
    },
  ],
  exports: [WalletClient],
})
export class WalletClientModule {}
