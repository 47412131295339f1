import { FlashdropConfig } from '@flashdrop/config';
import { postgresOptions } from '@flashdrop/persistence';
import { DataSourceOptions } from 'typeorm';
import { salesEntities } from './sales-entities';
import { salesMigrations } from '../migrations';

/** The API owns the `sales` schema: drops and orders. */
export const SALES_SCHEMA = 'sales';

export function salesDatabaseOptions(config: FlashdropConfig): DataSourceOptions {
  return postgresOptions({
    url: config.DATABASE_URL,
    schema: SALES_SCHEMA,
    entities: salesEntities,
    migrations: salesMigrations,
    applicationName: 'flashdrop-api',
  });
}
