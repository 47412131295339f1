import { createHttpApp, runService } from '@flashdrop/http';
import { AnalyticsModule } from './analytics.module';

runService('analytics', async (config, nest) => {
  const app = await createHttpApp(AnalyticsModule, { nest });
  await app.listen(config.ANALYTICS_HTTP_PORT, config.BIND_HOST);
});
