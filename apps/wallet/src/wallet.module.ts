import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { ConfigModule, FlashdropConfig } from '@flashdrop/config';
import { LoggerModule } from '@flashdrop/http';
import { AccountsController } from './accounts/accounts.controller';
import { CreditsController } from './credits/credits.controller';
import { LedgerRepository } from './ledger/ledger.repository';
import { PaymentsController } from './payments/payments.controller';
import { walletDatabaseOptions } from './wallet-database';
import { WalletController } from './wallet.controller';

const controllers = [WalletController, AccountsController, CreditsController, PaymentsController];
const providers = [LedgerRepository];

@Module({
  imports: [
    ConfigModule.forRoot(),
    LoggerModule.forService('wallet'),
    TypeOrmModule.forRootAsync({
      inject: [FlashdropConfig],
      useFactory: (config: FlashdropConfig) => ({
        ...walletDatabaseOptions(config),
        retryAttempts: 3,
      }),
    }),
  ],
  controllers,
  providers,
})
export class WalletModule {}
