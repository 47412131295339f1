import { Module } from '@nestjs/common';
import { CreditsController } from './credits/credits.controller';
import { walletClientProvider } from './wallet-client.provider';
import { WalletController } from './wallet.controller';

/** The wallet routes of API.md, answered by the wallet service over TCP. */
@Module({
  controllers: [WalletController, CreditsController],
  providers: [walletClientProvider],
  exports: [walletClientProvider],
})
export class WalletModule {}
