import { DynamicModule, Module } from '@nestjs/common';
import { FastifyInstance } from 'fastify';
import { Server } from 'node:http';
import { Socket } from 'node:net';
import { Params, LoggerModule as PinoLoggerModule, PinoLogger } from 'nestjs-pino';
import { FlashdropConfig } from '@flashdrop/config';

/**
 * Structured JSON logs (pino through nestjs-pino) for everything a service logs, with its name
 * in every line; request lines come from one Fastify hook (`logRequests`).
 *
 * nestjs-pino's HTTP middleware is switched off (`forRoutes: []`). It builds a pino-http child
 * logger per request and runs the request in an AsyncLocalStorage, and once any request has
 * done that, Node's promise hooks stay on for every promise of the process; even with the rush's
 * routes excluded it cost ~17% of the API's CPU per grab (load-tests/README.md). What it gave,
 * the request id in each line, is kept where it matters: request lines and every error line
 * carry `reqId`, and `x-request-id` is echoed to the caller.
 */
@Module({})
export class LoggerModule {
  static forService(service: string): DynamicModule {
    return PinoLoggerModule.forRootAsync({
      inject: [FlashdropConfig],
      useFactory: (config: FlashdropConfig) => pinoParams(service, config.LOG_LEVEL),
    }) as DynamicModule;
  }
}

/** The one log's settings: JSON lines with the service's name, secrets redacted. */
export function pinoParams(service: string, level: string): Params {
  return {
    pinoHttp: {
      level,
      base: { service },
      redact: ['req.headers.authorization', 'req.query.access_token'],
    },
    forRoutes: [],
  };
}

/**
 * A request's URL as it may be logged: the path, and the names of its query parameters with
 * every value replaced. A query can carry a token (`?access_token=` on the live streams, whose
 * EventSource cannot send headers) or anything else a caller put there; no log line keeps it.
 */
export function loggableUrl(url: string): string {
  const q = url.indexOf('?');
  if (q < 0) return url;
  const names = url
    .slice(q + 1)
    .split('&')
    .filter(Boolean)
    .map((pair) => `${pair.split('=')[0]}=[redacted]`);
  return `${url.slice(0, q)}?${names.join('&')}`;
}

/**
 * One line per answered request: at debug (so the default level writes none and a rush costs a
 * comparison per request), and at error for a 5xx whatever the level. The URL's query values
 * are redacted (`loggableUrl`).
 */
export function logRequests(fastify: FastifyInstance): void {
  fastify.addHook('onResponse', (request, reply, done) => {
    const logger = PinoLogger.root;
    const failed = reply.statusCode >= 500;
    if (logger && (failed || logger.isLevelEnabled('debug'))) {
      // Flat fields: pino-http's `req`/`res` serializers expect raw Node objects.
      const line = {
        reqId: request.id,
        method: request.method,
        url: loggableUrl(request.url),
        statusCode: reply.statusCode,
        responseTime: Math.round(reply.elapsedTime),
      };
      if (failed) logger.error(line, 'request failed');
      else logger.debug(line, 'request completed');
    }
    done();
  });
}

/** When each connection was accepted: a client error says how old its connection was. */
const acceptedAt = new WeakMap<Socket, number>();

/**
 * Logs what Node's HTTP server refuses before any request reaches Fastify's routes: a request
 * Node could not parse (400), and a connection on which no complete request head arrived within
 * the server's headersTimeout (Node's connection check answers it 408 `Client Timeout`). Fastify
 * answers both itself and nothing else sees them, so without this line a 408 a client met leaves
 * no trace in the service's log. The fields say which case it was: how long the connection had
 * been open and what had crossed it (a connection that never carried a request reads 0 bytes).
 */
export function logClientErrors(server: Server): void {
  server.on('connection', (socket: Socket) => acceptedAt.set(socket, Date.now()));
  server.on('clientError', (error: NodeJS.ErrnoException, socket: Socket) => {
    // A peer that hung up mid-request is routine, not worth a warning.
    if (error.code === 'ECONNRESET') return;
    const opened = acceptedAt.get(socket);
    PinoLogger.root?.warn(
      {
        code: error.code,
        remotePort: socket.remotePort,
        connectionAgeMs: opened === undefined ? undefined : Date.now() - opened,
        bytesRead: socket.bytesRead,
        bytesWritten: socket.bytesWritten,
        headersTimeoutMs: server.headersTimeout,
      },
      'client error before routing',
    );
  });
}
