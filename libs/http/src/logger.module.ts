import { DynamicModule, Module } from '@nestjs/common';
import { LoggerModule as PinoLoggerModule } from 'nestjs-pino';
import { FlashdropConfig } from '@flashdrop/config';
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';

/**
 * Structured JSON logs (pino) with a request id: taken from `x-request-id` when the caller sent
 * one, made up otherwise, and echoed back in the response header. Successful and refused
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
          genReqId: (req: IncomingMessage, res: ServerResponse) => {
            const incoming = req.headers['x-request-id'];
            const id =
              typeof incoming === 'string' && incoming.length <= 128 ? incoming : randomUUID();
            res.setHeader('x-request-id', id);
            return id;
          },
          customLogLevel: (_req: IncomingMessage, res: ServerResponse, err?: Error) =>
            err || res.statusCode >= 500 ? 'error' : 'debug',
          redact: ['req.headers.authorization', 'req.query.access_token'],
        },
      }),
    }) as DynamicModule;
  }
}
