import { Global, Inject, Module, OnApplicationShutdown } from '@nestjs/common';
import { FlashdropConfig } from '@flashdrop/config';
import { migrate, pingPostgres, postgresOptions } from '@flashdrop/persistence';
import { DataSource, DataSourceOptions } from 'typeorm';
import { DeliveryRecords } from './delivery-records';
import { EndpointRecords } from './endpoint-records';
import { webhooksMigrations } from './migrations';
import { SecretBox } from './secret-box';
import { UrlPolicy } from './url-policy';

/** Brands' webhooks and their deliveries live in this PostgreSQL schema. */
export const WEBHOOKS_SCHEMA = 'webhooks';

export function webhooksDatabaseOptions(
  config: FlashdropConfig,
  pool: { applicationName: string; poolSize?: number; queryTimeoutMs?: number },
): DataSourceOptions {
  return postgresOptions({
    url: config.DATABASE_URL,
    schema: WEBHOOKS_SCHEMA,
    entities: [],
    migrations: webhooksMigrations,
    ...pool,
  });
}

/** Runs the schema's pending migrations; answers their names. */
export function migrateWebhooks(config: FlashdropConfig): Promise<string[]> {
  return migrate({
    ...webhooksDatabaseOptions(config, { applicationName: 'flashdrop-migrate' }),
    schema: WEBHOOKS_SCHEMA,
  });
}

/**
 * The `webhooks` schema, each table behind its one door, on a pool of its own: the API writes
 * endpoints (a brand's routes), the notifier writes deliveries; both go through here.
 */
export class WebhooksDatabase {
  readonly endpoints: EndpointRecords;
  readonly deliveries: DeliveryRecords;

  constructor(private readonly db: DataSource) {
    this.endpoints = new EndpointRecords(db);
    this.deliveries = new DeliveryRecords(db);
  }

  static pool(
    config: FlashdropConfig,
    pool: { applicationName: string; poolSize?: number },
  ): WebhooksDatabase {
    return new WebhooksDatabase(new DataSource(webhooksDatabaseOptions(config, pool)));
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

/** The deployment's URL rule (WEBHOOK_ALLOWED_NETWORKS, NODE_ENV), built once from the config. */
export function urlPolicyOf(config: FlashdropConfig): UrlPolicy {
  return new UrlPolicy({
    allowedNetworks: config.WEBHOOK_ALLOWED_NETWORKS,
    production: config.NODE_ENV === 'production',
  });
}

/** The secrets' sealing key from the config; refuses the development key in production. */
export function secretBoxOf(config: FlashdropConfig): SecretBox {
  return new SecretBox(config.WEBHOOK_SECRET_KEY, config.NODE_ENV);
}

class WebhooksPool extends WebhooksDatabase implements OnApplicationShutdown {
  async onApplicationShutdown(): Promise<void> {
    await this.close();
  }
}

/**
 * For a Nest app: the schema's pool (opened at boot, retried by callers when PostgreSQL is
 * away), the URL policy and the secret box, all validated when the app starts.
 */
@Global()
@Module({
  providers: [
    {
      provide: WebhooksDatabase,
      inject: [FlashdropConfig],
      useFactory: async (config: FlashdropConfig) => {
        const db = new WebhooksPool(
          new DataSource(
            webhooksDatabaseOptions(config, {
              applicationName: 'flashdrop-webhooks',
              poolSize: 8,
              queryTimeoutMs: config.POSTGRES_QUERY_TIMEOUT_MS,
            }),
          ),
        );
        await db.open().catch(() => undefined);
        return db;
      },
    },
    { provide: UrlPolicy, inject: [FlashdropConfig], useFactory: urlPolicyOf },
    { provide: SecretBox, inject: [FlashdropConfig], useFactory: secretBoxOf },
  ],
  exports: [WebhooksDatabase, UrlPolicy, SecretBox],
})
export class WebhooksModule {
  constructor(@Inject(FlashdropConfig) readonly config: FlashdropConfig) {}
}
