import { Module } from '@nestjs/common';
import { CreditsController } from './credits/credits.controller';
import { WalletClient } from './wallet.client';
import { WalletController } from './wallet.controller';

/** The wallet routes of API.md, answered by the wallet service over TCP. */
@Module({
  controllers: [WalletController, CreditsController],
  providers: [WalletClient],
  exports: [WalletClient],
})
export class WalletModule {}
