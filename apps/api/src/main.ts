import { createHttpApp, runService } from '@flashdrop/http';
import { AppModule } from './app.module';
import { SUCCESS_BODIES } from './openapi/success-bodies';

/**
 * Never shed: probes and metrics (operators need them most under load), and the live streams
 * (long-lived; analytics bounds them per caller and in all).
 */
const UNBOUNDED = /^\/(health\/|metrics(\?|$))|^\/v1\/drops\/[^/?]+\/live(\?|$)/;
function isUnbounded(request: { readonly url?: string }): boolean {
  return UNBOUNDED.test(request.url ?? '');
}

runService('api', async (config, nest) => {
  // The rush's two routes and the payment are served by Fastify directly (libs/http LeanRoute),
  // mounted from the modules that own them.
  const app = await createHttpApp(AppModule, {
    docsTitle: 'Flashdrop public API',
    docsBodies: SUCCESS_BODIES,
    nest,
    admission: {
      maxInFlight: config.API_MAX_IN_FLIGHT,
      maxEventLoopDelayMs: config.API_MAX_EVENT_LOOP_DELAY_MS,
      exempt: isUnbounded,
    },
  });
  // A backlog that holds a rush's connections (API_LISTEN_BACKLOG says why).
  // (The options form: Nest's (port, host, backlog) overload hands Fastify a number as callback.)
  await app.listen({
    port: config.API_PORT,
    host: config.BIND_HOST,
    backlog: config.API_LISTEN_BACKLOG,
  });
});
