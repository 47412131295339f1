import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { FlashdropConfig } from '@flashdrop/config';
import { migrate, postgresOptions } from '@flashdrop/persistence';
import { DataSource, DataSourceOptions } from 'typeorm';
import { Account } from './entities/account.entity';
import { LedgerEntry } from './entities/ledger-entry.entity';
import { OutboxEvent } from './entities/outbox-event.entity';
import { Payment } from './entities/payment.entity';
import { Transfer } from './entities/transfer.entity';
import { LedgerRepository } from './ledger.repository';
import { Ledger1764070000000 } from './migrations/1764070000000-ledger';
import { LedgerBatches1764100000000 } from './migrations/1764100000000-ledger-batches';
import { DropSingleItemFunctions1764200000000 } from './migrations/1764200000000-drop-single-item-functions';
import { Refunds1766100000000 } from './migrations/1766100000000-refunds';
import { ReferralRewards1766200000000 } from './migrations/1766200000000-referral-rewards';
import { GroupBuy1766300000000 } from './migrations/1766300000000-group-buy';
import { RefundDeclines1766400000000 } from './migrations/1766400000000-refund-declines';

/** The wallet's tables (accounts, transfers, entries, payments, outbox) live in this schema. */
export const WALLET_SCHEMA = 'wallet';

/** Every entity of the `wallet` schema, listed explicitly so the bundle finds them. */
const walletEntities: (new () => object)[] = [Account, Transfer, LedgerEntry, Payment, OutboxEvent];

/** The `wallet` schema's migrations, oldest first. Never edit one that has shipped. */
const walletMigrations: (new () => object)[] = [
  Ledger1764070000000,
  LedgerBatches1764100000000,
  DropSingleItemFunctions1764200000000,
  Refunds1766100000000,
  ReferralRewards1766200000000,
  GroupBuy1766300000000,
  RefundDeclines1766400000000,
];

export interface WalletPoolOptions {
  readonly applicationName: string;
  readonly poolSize?: number;
  /** The wallet service's pool: POSTGRES_QUERY_TIMEOUT_MS (libs/persistence `queryTimeoutMs`). */
  readonly queryTimeoutMs?: number;
}

export function walletDatabaseOptions(
  config: FlashdropConfig,
  pool: WalletPoolOptions = { applicationName: 'flashdrop-wallet', poolSize: 40 },
): DataSourceOptions {
  return postgresOptions({
    url: config.DATABASE_URL,
    schema: WALLET_SCHEMA,
    entities: walletEntities,
    migrations: walletMigrations,
    ...pool,
  });
}

/** Runs the schema's pending migrations; answers their names. */
export function migrateWallet(config: FlashdropConfig): Promise<string[]> {
  return migrate({ ...walletDatabaseOptions(config), schema: WALLET_SCHEMA });
}

/** A pool of its own on the wallet's schema, not yet connected (for the worker's outbox relay). */
export function walletPool(config: FlashdropConfig, pool: WalletPoolOptions): DataSource {
  return new DataSource(walletDatabaseOptions(config, pool));
}

/** The wallet service's door to its schema: the LedgerRepository, for injection. */
@Module({
  imports: [
    TypeOrmModule.forRootAsync({
      inject: [FlashdropConfig],
      useFactory: (config: FlashdropConfig) => ({
        // Every wallet call answers within POSTGRES_QUERY_TIMEOUT_MS: SERVICE_UNAVAILABLE
        // rather than a call its client gives up on while a pooled connection stays stuck.
        ...walletDatabaseOptions(config, {
          applicationName: 'flashdrop-wallet',
          poolSize: 40,
          queryTimeoutMs: config.POSTGRES_QUERY_TIMEOUT_MS,
        }),
        retryAttempts: 3,
      }),
    }),
  ],
  providers: [LedgerRepository],
  exports: [LedgerRepository],
})
export class LedgerModule {}
