import { INestApplication, NestApplicationOptions, Type } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, NestFastifyApplication } from '@nestjs/platform-fastify';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { Logger } from 'nestjs-pino';
import { randomUUID } from 'node:crypto';
import { TokenVerifier } from '@flashdrop/auth';
import { AdmissionOptions, admissionControl } from './admission';
import { ErrorFilter } from './error.filter';
import { discoverLeanRoutes, leanRoutePaths, mountLeanRoutes, sendError } from './lean-route';
import { logClientErrors, logRequests } from './logger.module';
import { completeDocument, SuccessBodies } from './openapi';
import { RouteTable } from './route-table';
import { MetricsRegistry } from './metrics';
import { StrictValidationPipe } from './validation.pipe';

/** docs/api.md: bodies over 64 KiB are refused with 413. */
export const BODY_LIMIT_BYTES = 64 * 1024;

export interface HttpAppOptions {
  /** Title of the OpenAPI document served at /docs; no docs when absent. */
  readonly docsTitle?: string;
  /** What each operation answers on success (completeDocument): `METHOD path` -> its schema. */
  readonly docsBodies?: SuccessBodies;
  /** How Nest is created (runService's: its logger from the first line, no abort on error). */
  readonly nest?: NestApplicationOptions;
  /** Admission control (see admissionControl): the bound on requests in flight, and exemptions. */
  readonly admission?: Omit<AdmissionOptions, 'registry'>;
}

/**
 * Builds a Nest application on Fastify with everything every HTTP service shares: the body
 * limit, JSON logs, the strict validation pipe, the one error filter (also for errors Fastify
 * raises before Nest sees the request), Prometheus metrics and the OpenAPI page.
 */
export async function createHttpApp(
  module: Type<unknown>,
  options: HttpAppOptions = {},
): Promise<NestFastifyApplication> {
  const adapter = new FastifyAdapter(fastifyOptions());
  const app = await NestFactory.create<NestFastifyApplication>(module, adapter, {
    bufferLogs: true,
    ...options.nest,
  });
  configureHttpApp(app, options);
  return app;
}

/**
 * Fastify's own options: the body limit, and the request id taken from `x-request-id` when the
 * caller sent one (made up otherwise); pino logs it with every line of the request.
 */
export function fastifyOptions() {
  return {
    bodyLimit: BODY_LIMIT_BYTES,
    trustProxy: false,
    requestIdHeader: 'x-request-id',
    genReqId: () => randomUUID(),
    // What Fastify's router refuses before any route or hook runs (a path that is not valid
    // percent-encoding, a path parameter past maxParamLength) leaves in the contract's shape
    // too, with its request id; otherwise Fastify writes its own body (and a 414).
    frameworkErrors: (error: FastifyError, request: FastifyRequest, reply: FastifyReply) => {
      void reply.header('x-request-id', request.id);
      sendError(reply, error);
    },
  };
}

/** The shared set-up, separate so tests can apply it to a `Test.createTestingModule` app. */
export function configureHttpApp(app: NestFastifyApplication, options: HttpAppOptions = {}): void {
  const fastify = app.getHttpAdapter().getInstance();
  // Before any route is added (Nest adds its routes at init): it learns them all.
  const routes = RouteTable.listen(fastify);
  app.useLogger(app.get(Logger));
  app.useGlobalPipes(new StrictValidationPipe());
  app.useGlobalFilters(new ErrorFilter(routes));
  app.enableShutdownHooks();

  fastify.setErrorHandler((error, _request, reply) => sendError(reply, error));
  fastify.addHook('onRequest', (request, reply, done) => {
    void reply.header('x-request-id', request.id);
    done();
  });
  const metrics = tryGet(app, MetricsRegistry);
  // First of the hooks that do work: a shed request costs as little as it can.
  if (options.admission) {
    admissionControl(fastify, { ...options.admission, registry: metrics?.registry });
  }
  metrics?.instrument(fastify);
  logRequests(fastify);
  logClientErrors(fastify.server);

  // Routes Fastify serves directly, beside Nest's router, from whichever module owns them.
  const leanRoutes = discoverLeanRoutes(app);
  if (leanRoutes.length > 0) {
    mountLeanRoutes(fastify, app.get(TokenVerifier, { strict: false }), leanRoutes);
  }

  if (options.docsTitle) {
    const document = SwaggerModule.createDocument(
      app,
      new DocumentBuilder().setTitle(options.docsTitle).setVersion('1').addBearerAuth().build(),
    );
    Object.assign(document.paths, leanRoutePaths(leanRoutes));
    SwaggerModule.setup('docs', app, completeDocument(document, options.docsBodies), {
      jsonDocumentUrl: 'docs/openapi.json',
    });
  }
}

function tryGet<T>(app: INestApplication, token: Type<T>): T | undefined {
  try {
    return app.get(token, { strict: false });
  } catch {
    return undefined;
  }
}
