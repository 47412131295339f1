import { Module } from '@nestjs/common';
import { ConfigModule } from '@flashdrop/config';
import { LoggerModule } from '@flashdrop/http';
import { LedgerModule } from '@flashdrop/ledger';
import { AccountsController } from './accounts/accounts.controller';
import { CreditsController } from './credits/credits.controller';
import { PaymentsController } from './payments/payments.controller';
import { WalletController } from './wallet.controller';

const controllers = [WalletController, AccountsController, CreditsController, PaymentsController];

@Module({
  imports: [ConfigModule.forRoot(), LoggerModule.forService('wallet'), LedgerModule],
  controllers,
})
export class WalletModule {}
