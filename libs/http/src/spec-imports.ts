import { Controller, Get } from '@nestjs/common';
import { AuthModule, Public } from '@flashdrop/auth';
import { ConfigModule, FlashdropConfig, loadConfig } from '@flashdrop/config';
import { LoggerModule } from './logger.module';
import { MetricsModule } from './metrics';

/**
 * What a spec's own Nest app of the shared HTTP set-up imports (http-contract.spec,
 * rush-front.spec): the config with the spec's token secret and no logs, the logger, the auth
 * guard and verifier, the metrics. For specs only.
 */
export function httpSpecImports(jwtSecret: string) {
  return [
    ConfigModule.forRoot(
      loadConfig(FlashdropConfig, { JWT_SECRET: jwtSecret, LOG_LEVEL: 'silent' }),
    ),
    LoggerModule.forService('test'),
    AuthModule,
    MetricsModule,
  ];
}

/** `GET /things/public`: a route of Nest's instance anyone may call (rush-front, admission specs). */
@Controller('things')
export class PublicThingsController {
  @Public()
  @Get('public')
  open(): { ok: true } {
    return { ok: true };
  }
}
