import { FlashdropConfig, loadConfig } from '@flashdrop/config';
import { Inventory } from '@flashdrop/inventory';
import {
  freshDatabase,
  migrateSchema,
  ServiceProcess,
  slotPort,
  testProfileEnv,
  uniqueId,
} from '@flashdrop/testing';
import {
  EndpointRecords,
  SecretBox,
  WebhookEventType,
  WebhooksDatabase,
} from '@flashdrop/webhooks';

/**
 * A notifier of the test's own, on the test stack's Redis and Kafka topics but with a database
 * of its own for the webhooks schema and a consumer group of its own: the test registers its
 * webhooks there, can `kill -9` it, and the stack's notifier (which knows none of them) stays out.
 */
export class OwnNotifier {
  readonly port: number;
  readonly env: Record<string, string>;
  private current?: ServiceProcess;
  db!: WebhooksDatabase;
  box!: SecretBox;

  constructor(
    private readonly name: string,
    portBase: number,
    settings: Record<string, string> = {},
  ) {
    this.port = slotPort(portBase);
    this.env = {
      NOTIFIER_HTTP_PORT: String(this.port),
      KAFKA_CLIENT_ID: uniqueId(`notifier-${name}`),
      ...settings,
    };
  }

  /** Its database, migrated, and a pool on it. */
  async prepare(): Promise<void> {
    const url = await freshDatabase(`webhooks_${this.name}`);
    this.env.DATABASE_URL = url;
    migrateSchema('webhooks', url);
    const config = loadConfig(FlashdropConfig, { ...testProfileEnv(), ...this.env });
    this.db = WebhooksDatabase.pool(config, { applicationName: `test-${this.name}`, poolSize: 4 });
    await this.db.open();
    this.box = new SecretBox(config.WEBHOOK_SECRET_KEY, config.NODE_ENV);
  }

  /** A webhook of `brandId`, registered as the API would: answers its id and secret. */
  async register(brandId: string, url: string, events: WebhookEventType[]) {
    const id = EndpointRecords.newId();
    const secret = SecretBox.newSecret();
    await this.db.endpoints.insert({
      id,
      brandId,
      url,
      events,
      secretSealed: this.box.seal(secret, id),
    });
    return { id, secret };
  }

  async start(): Promise<void> {
    this.current = new ServiceProcess(
      'notifier',
      this.env,
      `/tmp/flashdrop-notifier-${this.name}-${process.pid}.log`,
    );
    this.current.start();
    await this.current.waitForHttp(`http://127.0.0.1:${this.port}/health/live`);
  }

  kill9(): void {
    this.current?.kill9();
  }

  async stop(): Promise<void> {
    await this.current?.stop();
    await this.db?.close();
  }
}

/** Pays each order with the sale's scripts alone (the drop is retired after the test). */
export async function payWithScripts(
  inventory: Inventory,
  orders: { id: string; fanId: string }[],
) {
  for (let i = 0; i < orders.length; i += 100) {
    await Promise.all(
      orders.slice(i, i + 100).map(async (o) => {
        const begun = await inventory.beginPayment(o.id, { fanId: o.fanId, payingTtlMs: 30_000 });
        if (!begun.ok) throw new Error(`begin payment: ${begun.code}`);
        const done = await inventory.completePayment(o.id);
        if (!done.ok) throw new Error(`complete payment: ${done.code}`);
      }),
    );
  }
}
