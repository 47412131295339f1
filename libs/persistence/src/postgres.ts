import { DataSource, DataSourceOptions, MixedList, EntitySchema } from 'typeorm';
import { TypeOrmLogger } from './server-logs';
import { withTimeout } from './timing';

export interface PostgresOptions {
  readonly url: string;
  /** The schema this service owns; its tables and its migrations table live there. */
  readonly schema: string;
  // TypeORM's own type for entity and migration lists; classes are listed explicitly (no globs)
  // so the bundled services find them.
  // eslint-disable-next-line @typescript-eslint/no-unsafe-function-type
  readonly entities: MixedList<Function | string | EntitySchema>;
  // eslint-disable-next-line @typescript-eslint/no-unsafe-function-type
  readonly migrations: MixedList<Function | string>;
  readonly poolSize?: number;
  readonly applicationName: string;
}

/**
 * TypeORM options for one service's schema. Never `synchronize`: tables change only through
 * the service's migrations, which run in one transaction each.
 */
export function postgresOptions(options: PostgresOptions): DataSourceOptions {
  return {
    type: 'postgres',
    url: options.url,
    schema: options.schema,
    entities: options.entities,
    migrations: options.migrations,
    migrationsTableName: `${options.schema}_migrations`,
    migrationsTransactionMode: 'each',
    synchronize: false,
    logging: ['error', 'warn'],
    logger: new TypeOrmLogger(),
    applicationName: options.applicationName,
    extra: {
      max: options.poolSize ?? 20,
      connectionTimeoutMillis: 3000,
      // Fail a statement stuck behind a dead peer rather than hold a pooled connection forever.
      statement_timeout: 15000,
    },
  };
}

/** Runs a service's pending migrations (creating its schema first) and closes the connection. */
export async function migrate(options: DataSourceOptions & { schema?: string }): Promise<string[]> {
  const dataSource = new DataSource(options);
  await dataSource.initialize();
  try {
    if (options.schema) await dataSource.query(`CREATE SCHEMA IF NOT EXISTS "${options.schema}"`);
    const applied = await dataSource.runMigrations({ transaction: 'each' });
    return applied.map((m) => m.name);
  } finally {
    await dataSource.destroy();
  }
}

export async function pingPostgres(dataSource: DataSource, timeoutMs = 1000): Promise<void> {
  await withTimeout(dataSource.query('SELECT 1'), timeoutMs, 'postgresql');
}

/**
 * Creates the database of `url` when the server lacks it (connecting to the server's `postgres`
 * database to do so); answers whether it did.
 */
export async function ensureDatabase(url: string): Promise<boolean> {
  const name = decodeURIComponent(new URL(url).pathname.slice(1));
  const server = new URL(url);
  server.pathname = '/postgres';
  const admin = new DataSource({ type: 'postgres', url: server.toString(), extra: { max: 1 } });
  await admin.initialize();
  try {
    const found: unknown[] = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [
      name,
    ]);
    if (found.length > 0) return false;
    await admin.query(`CREATE DATABASE "${name.replace(/"/g, '""')}"`);
    return true;
  } finally {
    await admin.destroy();
  }
}
