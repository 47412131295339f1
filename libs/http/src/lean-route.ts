import { INestApplication, Logger } from '@nestjs/common';
import { ModulesContainer } from '@nestjs/core';
import type {
  OperationObject,
  SchemaObject,
} from '@nestjs/swagger/dist/interfaces/open-api-spec.interface';
import { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { assertRole, TokenVerifier } from '@flashdrop/auth';
import { Principal, Role } from '@flashdrop/contracts';
import { toErrorResponse } from './error-response';

/** What a lean handler answers: refusals are answers too, not thrown errors. */
export interface LeanAnswer {
  readonly status: number;
  readonly body: unknown;
  /** Extra headers (Retry-After on a 429; see `retryHeaders`). */
  readonly headers?: Readonly<Record<string, string>>;
}

export interface LeanRequest {
  readonly principal: Principal;
  readonly params: Readonly<Record<string, string>>;
  /** The parsed JSON body (Fastify's parser: malformed JSON and 413 never get here). */
  readonly body: unknown;
  readonly headers: FastifyRequest['headers'];
}

/**
 * A route of the rush, served by Fastify directly instead of through Nest's router.
 * docs/architecture.md "Performance": Nest's routing alone (execution context, guard, interceptors, pipes
 * resolution, the exception zone) caps a route at ~0.57x a bare Fastify one. Everything a
 * Nest route gets that matters is done here by hand, once: the bearer token (the same cached
 * TokenVerifier the AuthGuard uses), the role, the contract's error shape for anything thrown
 * (with the 500's errorId logged), and the OpenAPI operation. Fastify's own hooks (the request
 * id, metrics, the body limit and JSON parser) still apply: they are registered on the root.
 */
export interface LeanRoute {
  readonly method: 'POST' | 'GET';
  /** Fastify path syntax, e.g. `/v1/drops/:id/purchases`. */
  readonly url: string;
  /** Roles allowed to call it (403 FORBIDDEN otherwise). */
  readonly roles: readonly Role[];
  /** Its operation in /docs (Nest's scanner never sees a route it does not route). */
  readonly openapi: OperationObject;
  handle(request: LeanRequest): Promise<LeanAnswer>;
}

/** A provider that contributes lean routes; mark its class with `@ServesLeanRoutes()`. */
export interface LeanRouteProvider {
  leanRoutes(): readonly LeanRoute[];
}

const SERVES_LEAN_ROUTES = Symbol('flashdrop:lean-routes');

/**
 * Marks a provider whose routes Fastify serves directly: the module that lists the provider
 * owns its routes, as it owns its controllers; createHttpApp finds and mounts every one.
 */
export function ServesLeanRoutes(): ClassDecorator {
  return (target) => Reflect.defineMetadata(SERVES_LEAN_ROUTES, true, target);
}

/** Every lean route of the application's modules (providers marked `@ServesLeanRoutes()`). */
export function discoverLeanRoutes(app: INestApplication): LeanRoute[] {
  const providers = new Set<LeanRouteProvider>();
  for (const module of app.get(ModulesContainer).values()) {
    for (const wrapper of module.providers.values()) {
      const type = wrapper.metatype as object | null;
      if (type && wrapper.instance && Reflect.getMetadata(SERVES_LEAN_ROUTES, type)) {
        providers.add(wrapper.instance as LeanRouteProvider);
      }
    }
  }
  return [...providers].flatMap((provider) => provider.leanRoutes());
}

const logger = new Logger('HttpErrors');

/**
 * Sends any thrown value in the contract's shape; a 500 is logged under the errorId the caller
 * gets. For errors Nest's filter never sees: lean routes, and Fastify's own (malformed JSON, 413).
 */
export function sendError(reply: FastifyReply, error: unknown): void {
  const { status, body, errorId, headers, unavailable } = toErrorResponse(error);
  if (unavailable) {
    logger.warn(
      { reqId: reply.request.id, err: String(error) },
      `${unavailable} did not answer: 503`,
    );
  }
  if (errorId) logger.error({ errorId, reqId: reply.request.id, err: error }, 'unhandled error');
  void reply.status(status).headers(headers).send(body);
}

/** Mounts the routes on Fastify; must run before the app listens (Fastify's routes freeze then). */
export function mountLeanRoutes(
  fastify: FastifyInstance,
  verifier: TokenVerifier,
  routes: readonly LeanRoute[],
): void {
  for (const route of routes) {
    fastify.route({
      method: route.method,
      url: route.url,
      handler: (request: FastifyRequest, reply: FastifyReply) => {
        let principal: Principal;
        try {
          const header = request.headers.authorization;
          principal = verifier.verifyHeader(header);
          assertRole(principal, route.roles);
        } catch (error) {
          return sendError(reply, error);
        }
        // The reply is sent here rather than returned, so Fastify does not also await a value.
        route
          .handle({
            principal,
            params: request.params as Record<string, string>,
            body: request.body,
            headers: request.headers,
          })
          .then(
            (answer) => {
              if (answer.headers) void reply.headers(answer.headers);
              void reply.status(answer.status).send(answer.body);
            },
            (error: unknown) => sendError(reply, error),
          );
      },
    });
  }
}

/**
 * The /docs operation of a bearer-token route on one resource (`:id`: a drop, an order) with an
 * optional JSON body: what a lean route's `openapi` would otherwise spell out in full each time.
 */
export function leanOperation(op: {
  readonly tag: string;
  readonly summary: string;
  /** The `:id` parameter's schema; a plain string when absent. */
  readonly idSchema?: SchemaObject;
  /** The JSON body's properties; no body when absent. */
  readonly bodyProperties?: Record<string, SchemaObject>;
  readonly headers?: readonly string[];
  readonly responses: Record<number, string>;
}): OperationObject {
  return {
    tags: [op.tag],
    summary: op.summary,
    security: [{ bearer: [] }],
    parameters: [
      { name: 'id', in: 'path', required: true, schema: op.idSchema ?? { type: 'string' } },
      ...(op.headers ?? []).map((name) => ({
        name,
        in: 'header' as const,
        required: false,
        schema: { type: 'string' },
      })),
    ],
    ...(op.bodyProperties && {
      requestBody: {
        required: false,
        content: {
          'application/json': { schema: { type: 'object', properties: op.bodyProperties } },
        },
      },
    }),
    responses: Object.fromEntries(
      Object.entries(op.responses).map(([status, description]) => [status, { description }]),
    ),
  };
}

/** The routes' operations, keyed as OpenAPI paths (`:id` becomes `{id}`). */
export function leanRoutePaths(
  routes: readonly LeanRoute[],
): Record<string, Record<string, OperationObject>> {
  const paths: Record<string, Record<string, OperationObject>> = {};
  for (const route of routes) {
    const path = route.url.replace(/:([A-Za-z0-9_]+)/g, '{$1}');
    paths[path] = { ...paths[path], [route.method.toLowerCase()]: route.openapi };
  }
  return paths;
}
