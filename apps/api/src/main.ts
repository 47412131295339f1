import { createHttpApp, runService } from '@flashdrop/http';
import { AppModule } from './app.module';

runService('api', async (config, nest) => {
  // The rush's two routes and the payment are served by Fastify directly (libs/http LeanRoute),
  // mounted from the modules that own them.
  const app = await createHttpApp(AppModule, { docsTitle: 'Flashdrop public API', nest });
  await app.listen(config.API_PORT, '127.0.0.1');
});
