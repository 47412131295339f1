import { FlashdropConfig, loadConfig } from '@flashdrop/config';
import { createHttpApp } from '@flashdrop/http';
import { AnalyticsModule } from './analytics.module';

async function main(): Promise<void> {
  const config = loadConfig(FlashdropConfig);
  const app = await createHttpApp(AnalyticsModule);
  await app.listen(config.ANALYTICS_HTTP_PORT, '127.0.0.1');
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
