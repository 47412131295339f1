import { defineCommand, Flags } from '@flashdrop/cli';
import { FlashdropConfig, loadConfig } from '@flashdrop/config';
import { createKafka, ensureTopics } from '@flashdrop/events';
import { migrateWallet } from '@flashdrop/ledger';
import { ensureDatabase } from '@flashdrop/persistence';
import { migrateSales } from '@flashdrop/sales';
import { migrateWebhooks } from '@flashdrop/webhooks';

export const migrateCommand = defineCommand({
  usage: 'npm run migrate --',
  title: "create the stack's database, run its migrations, create its Kafka topics",
  summary:
    'Brings the stack whose environment it runs in (DATABASE_URL, KAFKA_BROKERS, ' +
    'KAFKA_TOPIC_PREFIX; the dev stack by default) up to date: creates its database when ' +
    'missing, runs the pending migrations of the `sales`, `wallet` and `webhooks` schemas, and ' +
    'creates the ' +
    'Kafka topics that are missing. Safe to run again: what is done is left alone.',
  flags: {
    only: {
      type: 'string',
      value: 'PART',
      choices: ['sales', 'wallet', 'webhooks', 'topics'],
      description: 'one part only',
    },
  },
  examples: ['npm run migrate', 'npm run migrate -- --only wallet'],
});

/** `npm run migrate` (npm start and npm test run it for their stacks). */
export async function migrate(flags: Flags<typeof migrateCommand.flags>): Promise<void> {
  const config = loadConfig(FlashdropConfig);
  const wants = (part: string) => flags.only === undefined || flags.only === part;
  if (wants('sales') || wants('wallet') || wants('webhooks')) {
    if (await ensureDatabase(config.DATABASE_URL)) {
      console.log(`created database ${new URL(config.DATABASE_URL).pathname.slice(1)}`);
    }
  }
  const report = (what: string, done: string[]) =>
    console.log(`${what}: ${done.length > 0 ? done.join(', ') : 'nothing to do'}`);
  if (wants('sales')) report('sales migrations applied', await migrateSales(config));
  if (wants('wallet')) report('wallet migrations applied', await migrateWallet(config));
  if (wants('webhooks')) report('webhooks migrations applied', await migrateWebhooks(config));
  if (wants('topics')) {
    const admin = createKafka(config.KAFKA_CLIENT_ID, config.kafkaBrokers).admin();
    await admin.connect();
    try {
      const { created, mismatched } = await ensureTopics(admin, config.KAFKA_TOPIC_PREFIX, {
        partitions: config.KAFKA_PARTITIONS,
        replicationFactor: config.KAFKA_REPLICATION_FACTOR,
      });
      report('kafka topics created', created);
      for (const { topic, partitions } of mismatched) {
        console.log(
          `kafka topic ${topic} has ${partitions} partitions, not KAFKA_PARTITIONS=${config.KAFKA_PARTITIONS}: left as it is (docs/deploy.md, "Partitions")`,
        );
      }
    } finally {
      await admin.disconnect();
    }
  }
}
