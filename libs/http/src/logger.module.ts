import { DynamicModule, Module } from '@nestjs/common';
import { LoggerModule as PinoLoggerModule } from 'nestjs-pino';
import { FlashdropConfig } from '@flashdrop/config';
import type { IncomingMessage, ServerResponse } from 'node:http';

/**
 * Structured JSON logs (pino) with the request id Fastify assigns (see `fastifyOptions`). Successful and refused
 * requests log at debug so the hot path writes nothing at the default level; 5xx log at error.
 */
@Module({})
export class LoggerModule {
  static forService(service: string): DynamicModule {
    return PinoLoggerModule.forRootAsync({
      inject: [FlashdropConfig],
      useFactory: (config: FlashdropConfig) => ({
        pinoHttp: {
          level: config.LOG_LEVEL,
          base: { service },
          customLogLevel: (_req: IncomingMessage, res: ServerResponse, err?: Error) =>
            err || res.statusCode >= 500 ? 'error' : 'debug',
          redact: ['req.headers.authorization', 'req.query.access_token'],
        },
      }),
    }) as DynamicModule;
  }
}
