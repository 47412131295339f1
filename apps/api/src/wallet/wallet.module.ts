import { Module } from '@nestjs/common';
import { WalletClientModule } from '@flashdrop/wallet-client';
import { CreditsController } from './credits/credits.controller';
import { WalletController } from './wallet.controller';

/** The wallet routes of docs/api.md, answered by the wallet service over TCP. */
@Module({
  imports: [WalletClientModule],
  controllers: [WalletController, CreditsController],
})
export class WalletModule {}
