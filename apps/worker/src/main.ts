import { createHttpApp, runService } from '@flashdrop/http';
import { WorkerModule } from './worker.module';

runService('worker', async (config, nest) => {
  const app = await createHttpApp(WorkerModule, { nest });
  await app.listen(config.WORKER_HTTP_PORT, config.BIND_HOST);
});
