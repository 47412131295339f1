import { DynamicModule, Module, RequestMethod } from '@nestjs/common';
import { LoggerModule as PinoLoggerModule } from 'nestjs-pino';
import { FlashdropConfig } from '@flashdrop/config';
import type { IncomingMessage, ServerResponse } from 'node:http';

/** A route that skips the per-request logger unless request lines are written (see below). */
export interface HotRoute {
  readonly method: RequestMethod;
  /** Nest route path, e.g. `v1/drops/:id/purchases`. */
  readonly path: string;
}

export interface LoggerOptions {
  /** The rush's routes: the grab, the reservation wave (load-tests/README.md "What each change bought"). */
  readonly hotRoutes?: readonly HotRoute[];
}

/** Whether request lines (logged at debug, see below) are written at this level. */
export function requestLinesWritten(level: string): boolean {
  return level === 'debug' || level === 'trace';
}

/**
 * Structured JSON logs (pino) with the request id Fastify assigns (see `fastifyOptions`). Successful and refused
 * requests log at debug so the hot path writes nothing at the default level; 5xx log at error.
 *
 * pino-http builds a child logger holding the serialized, redacted request on EVERY request,
 * whether or not its line is ever written; in a rush that was ~3% of the API's busy CPU (the
 * profile in load-tests/README.md). So at levels that write no request lines, the hot routes skip
 * the middleware altogether: their log lines (5xx only) come from the root logger, findable by
 * the errorId the client gets, and `x-request-id` is still echoed by the Fastify hook.
 */
@Module({})
export class LoggerModule {
  static forService(service: string, options: LoggerOptions = {}): DynamicModule {
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
        exclude:
          options.hotRoutes?.length && !requestLinesWritten(config.LOG_LEVEL)
            ? options.hotRoutes.map((r) => ({ method: r.method, path: r.path }))
            : undefined,
      }),
    }) as DynamicModule;
  }
}
