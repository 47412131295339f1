import { createHttpApp, runService } from '@flashdrop/http';
import { NotifierModule } from './notifier.module';

runService('notifier', async (config, nest) => {
  const app = await createHttpApp(NotifierModule, { nest });
  await app.listen(config.NOTIFIER_HTTP_PORT, '127.0.0.1');
});
