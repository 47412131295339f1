import { DataSource, DataSourceOptions, MixedList, EntitySchema } from 'typeorm';
import { DeadlineClient } from './postgres-deadline';
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
  /**
   * A request's pool (the API's, the wallet's): every query is answered within this or fails
   * and its connection is dropped (`isPostgresUnavailable`), so no caller waits on a server
   * that does not answer. Without it (the worker's batches, migrations, the audit) a statement
   * may take up to 15 s, the server's own statement_timeout.
   */
  readonly queryTimeoutMs?: number;
}

/** The server's bound on one statement when the pool sets no deadline of its own. */
const STATEMENT_TIMEOUT_MS = 15_000;

/** How much later than the server's statement_timeout the client gives up on its own. */
export const CLIENT_DEADLINE_MARGIN_MS = 500;

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
      // Also bounds the wait for a free connection of a full pool (pg-pool).
      connectionTimeoutMillis: 3000,
      // Fail a statement stuck behind a dead peer rather than hold a pooled connection forever.
      // The server enforces it, so it frees locks a stuck statement holds; it cannot help when
      // the server itself does not answer: that is the client's deadline below.
      statement_timeout: Math.min(STATEMENT_TIMEOUT_MS, options.queryTimeoutMs ?? Infinity),
      // The client's deadline comes a little after the server's: a server that answers but is
      // slow (a lock wait) cancels the statement itself and the connection stays usable; only
      // a server that answers nothing at all has the connection dropped.
      ...(options.queryTimeoutMs === undefined
        ? {}
        : {
            Client: DeadlineClient,
            query_timeout: options.queryTimeoutMs + CLIENT_DEADLINE_MARGIN_MS,
          }),
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
