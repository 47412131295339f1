import { FlashdropConfig, loadConfig } from '@flashdrop/config';
import { createKafka, ensureTopics } from '@flashdrop/events';
import { createHttpApp } from '@flashdrop/http';
import { WorkerModule } from './worker.module';

async function main(): Promise<void> {
  const config = loadConfig(FlashdropConfig);
  if (process.argv.includes('topics')) {
    const admin = createKafka(config.KAFKA_CLIENT_ID, config.kafkaBrokers).admin();
    await admin.connect();
    const created = await ensureTopics(admin, config.KAFKA_TOPIC_PREFIX);
    await admin.disconnect();
    process.stdout.write(
      `kafka topics created: ${created.length ? created.join(', ') : 'none missing'}\n`,
    );
    return;
  }
  const app = await createHttpApp(WorkerModule);
  await app.listen(config.WORKER_HTTP_PORT, '127.0.0.1');
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
