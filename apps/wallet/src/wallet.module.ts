import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { ConfigModule, FlashdropConfig } from '@flashdrop/config';
import { LoggerModule } from '@flashdrop/http';
import { walletDatabaseOptions } from './wallet-database';
import { WalletController } from './wallet.controller';

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
  controllers: [WalletController],
})
export class WalletModule {}
