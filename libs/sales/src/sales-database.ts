import { Global, Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { FlashdropConfig } from '@flashdrop/config';
import { migrate, pingPostgres, postgresOptions } from '@flashdrop/persistence';
import { DataSource, DataSourceOptions } from 'typeorm';
import { AllocationRecords } from './allocation-records';
import { DrawRecords } from './draw-records';
import { DropFigures } from './drop-figures';
import { DropRecords } from './drop-records';
import { DropEntity } from './entities/drop.entity';
import { OrderEntity } from './entities/order.entity';
import { salesMigrations } from './migrations';
import { OrderRecords } from './order-records';

/** The sale's durable tables (drops, orders, draws, allocations) live in this PostgreSQL schema. */
export const SALES_SCHEMA = 'sales';

export interface SalesPoolOptions {
  readonly applicationName: string;
  readonly poolSize?: number;
  /** A request's pool: POSTGRES_QUERY_TIMEOUT_MS (libs/persistence `queryTimeoutMs`). */
  readonly queryTimeoutMs?: number;
}

export function salesDatabaseOptions(
  config: FlashdropConfig,
  pool: SalesPoolOptions = { applicationName: 'flashdrop-api' },
): DataSourceOptions {
  return postgresOptions({
    url: config.DATABASE_URL,
    schema: SALES_SCHEMA,
    // Listed explicitly (no globs) so the bundled services find them.
    entities: [DropEntity, OrderEntity],
    migrations: salesMigrations,
    ...pool,
  });
}

/** Runs the schema's pending migrations; answers their names. */
export function migrateSales(config: FlashdropConfig): Promise<string[]> {
  return migrate({ ...salesDatabaseOptions(config), schema: SALES_SCHEMA });
}

/** The `sales` schema's tables, each behind its one door, on one connection pool. */
export class SalesDatabase {
  readonly drops: DropRecords;
  readonly orders: OrderRecords;
  readonly draws: DrawRecords;
  readonly allocations: AllocationRecords;
  /** Read-only: one drop's report figures. */
  readonly figures: DropFigures;

  constructor(private readonly db: DataSource) {
    this.drops = new DropRecords(db);
    this.orders = new OrderRecords(db);
    this.draws = new DrawRecords(db);
    this.allocations = new AllocationRecords(db);
    this.figures = new DropFigures(db);
  }

  /** A pool of its own, not yet connected (for processes other than the API: the worker). */
  static pool(config: FlashdropConfig, pool: SalesPoolOptions): SalesDatabase {
    return new SalesDatabase(new DataSource(salesDatabaseOptions(config, pool)));
  }

  get isOpen(): boolean {
    return this.db.isInitialized;
  }

  async open(): Promise<void> {
    if (!this.db.isInitialized) await this.db.initialize();
  }

  async close(): Promise<void> {
    if (this.db.isInitialized) await this.db.destroy();
  }

  ping(timeoutMs?: number): Promise<void> {
    return pingPostgres(this.db, timeoutMs);
  }
}

/** The API's door to the `sales` schema: SalesDatabase and its tables' records, for injection. */
@Global()
@Module({
  imports: [
    TypeOrmModule.forRootAsync({
      inject: [FlashdropConfig],
      useFactory: (config: FlashdropConfig) => ({
        // The API's pool: no request waits on PostgreSQL past POSTGRES_QUERY_TIMEOUT_MS.
        ...salesDatabaseOptions(config, {
          applicationName: 'flashdrop-api',
          queryTimeoutMs: config.POSTGRES_QUERY_TIMEOUT_MS,
        }),
        retryAttempts: 3,
        retryDelay: 1000,
      }),
    }),
  ],
  providers: [
    {
      provide: SalesDatabase,
      inject: [DataSource],
      useFactory: (db: DataSource) => new SalesDatabase(db),
    },
    { provide: DropRecords, inject: [SalesDatabase], useFactory: (s: SalesDatabase) => s.drops },
    { provide: OrderRecords, inject: [SalesDatabase], useFactory: (s: SalesDatabase) => s.orders },
    { provide: DrawRecords, inject: [SalesDatabase], useFactory: (s: SalesDatabase) => s.draws },
    {
      provide: AllocationRecords,
      inject: [SalesDatabase],
      useFactory: (s: SalesDatabase) => s.allocations,
    },
    { provide: DropFigures, inject: [SalesDatabase], useFactory: (s: SalesDatabase) => s.figures },
  ],
  exports: [SalesDatabase, DropRecords, OrderRecords, DrawRecords, AllocationRecords, DropFigures],
})
export class SalesDatabaseModule {}
