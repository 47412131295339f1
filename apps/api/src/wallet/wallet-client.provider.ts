import { FactoryProvider } from '@nestjs/common';
import { FlashdropConfig } from '@flashdrop/config';
import { WalletClient } from '@flashdrop/contracts';

/** The process's one connection to the wallet service, closed on shutdown. */
export const walletClientProvider: FactoryProvider<WalletClient> = {
  provide: WalletClient,
  inject: [FlashdropConfig],
  useFactory: (config: FlashdropConfig) =>
    new WalletClient({
      host: config.WALLET_HOST,
      port: config.WALLET_PORT,
      timeoutMs: config.WALLET_TIMEOUT_MS,
    }),
};
