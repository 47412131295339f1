import { FlashdropConfig } from '@flashdrop/config';
import { postgresOptions } from '@flashdrop/persistence';
import { DataSourceOptions } from 'typeorm';

/** The wallet service owns the `wallet` schema: accounts, transfers, ledger entries, outbox. */
export const WALLET_SCHEMA = 'wallet';

/** Every entity of the `wallet` schema, listed explicitly so the bundle finds them. */
export const walletEntities: (new () => object)[] = [];

/** The `wallet` schema's migrations, oldest first. Never edit one that has shipped. */
export const walletMigrations: (new () => object)[] = [];

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
