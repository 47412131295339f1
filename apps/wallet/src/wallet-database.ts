import { FlashdropConfig } from '@flashdrop/config';
import { postgresOptions } from '@flashdrop/persistence';
import { DataSourceOptions } from 'typeorm';
import { Account } from './ledger/account.entity';
import { LedgerEntry } from './ledger/ledger-entry.entity';
import { OutboxEvent } from './ledger/outbox-event.entity';
import { Payment } from './ledger/payment.entity';
import { Transfer } from './ledger/transfer.entity';
import { Ledger1764070000000 } from './migrations/1764070000000-ledger';
import { LedgerBatches1764100000000 } from './migrations/1764100000000-ledger-batches';

/** The wallet service owns the `wallet` schema: accounts, transfers, ledger entries, outbox. */
export const WALLET_SCHEMA = 'wallet';

/** Every entity of the `wallet` schema, listed explicitly so the bundle finds them. */
export const walletEntities: (new () => object)[] = [
  Account,
  Transfer,
  LedgerEntry,
  Payment,
  OutboxEvent,
];

/** The `wallet` schema's migrations, oldest first. Never edit one that has shipped. */
export const walletMigrations: (new () => object)[] = [
  Ledger1764070000000,
  LedgerBatches1764100000000,
];

export function walletDatabaseOptions(config: FlashdropConfig): DataSourceOptions {
  return postgresOptions({
    url: config.DATABASE_URL,
    schema: WALLET_SCHEMA,
    entities: walletEntities,
    migrations: walletMigrations,
    applicationName: 'flashdrop-wallet',
    poolSize: 40,
  });
}
