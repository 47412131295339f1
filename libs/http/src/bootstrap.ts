import { INestApplication, NestApplicationOptions, NotFoundException, Type } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, NestFastifyApplication } from '@nestjs/platform-fastify';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
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
import { RushFront } from './rush-front';
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
  /**
   * Admission control (see admissionControl): the bounds on requests in flight and on the event
   * loop's delay, and exemptions. Kept by the server's request listener, so only with a
   * `rushFront` (createHttpApp always makes one); `inject()` never meets it.
   */
  readonly admission?: Omit<AdmissionOptions, 'registry'>;
  /** Where the lean routes are answered from (createHttpApp makes one; see RushFront). */
  readonly rushFront?: RushFront;
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
  const { adapter, rushFront } = frontedAdapter();
  const app = await NestFactory.create<NestFastifyApplication>(module, adapter, {
    bufferLogs: true,
    ...options.nest,
  });
  configureHttpApp(app, { ...options, rushFront });
  return app;
}

/** Nest's Fastify adapter whose server hands the lean routes to a RushFront (configureHttpApp's). */
export function frontedAdapter(): { adapter: FastifyAdapter; rushFront: RushFront } {
  const rushFront = new RushFront(fastifyOptions());
  const adapter = new FastifyAdapter({
    ...fastifyOptions(),
    serverFactory: rushFront.serverFactory,
  });
  return { adapter, rushFront };
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

  const metrics = tryGet(app, MetricsRegistry);
  // One bound for the process, kept before either instance sees a request (admission.ts).
  const admission =
    options.admission && admissionControl({ ...options.admission, registry: metrics?.registry });
  if (admission) {
    if (!options.rushFront) throw new Error('admission control needs the rush front (its server)');
    options.rushFront.admitWith(admission);
  }
  // What every request gets, whichever instance answers it.
  const common = (instance: FastifyInstance) => {
    instance.setErrorHandler((error, _request, reply) => sendError(reply, error));
    instance.addHook('onRequest', (request, reply, done) => {
      void reply.header('x-request-id', request.id);
      done();
    });
    metrics?.instrument(instance);
    logRequests(instance);
  };
  common(fastify);
  logClientErrors(fastify.server);

  // Routes Fastify serves directly, beside Nest's router, from whichever module owns them; with
  // a rush front, on its instance as well, which answers them (RushFront says why both).
  const leanRoutes = discoverLeanRoutes(app);
  if (leanRoutes.length > 0) {
    const verifier = app.get(TokenVerifier, { strict: false });
    mountLeanRoutes(fastify, verifier, leanRoutes);
    const front = options.rushFront;
    if (front) {
      common(front.fastify);
      // Unreachable while its patterns are its routes' paths; if not, the contract's 404 still.
      front.fastify.setNotFoundHandler((request, reply) =>
        sendError(reply, new NotFoundException(`Cannot ${request.method} ${request.url}`)),
      );
      mountLeanRoutes(front.fastify, verifier, leanRoutes);
      front.take(leanRoutes);
      fastify.addHook('onReady', () => front.fastify.ready().then(() => undefined));
      fastify.addHook('onClose', () => front.fastify.close());
    }
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
