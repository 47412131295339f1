import { fastify, FastifyHttpOptions, FastifyInstance } from 'fastify';
import { createServer, IncomingMessage, RequestListener, Server } from 'node:http';
import type { Admission } from './admission';
import type { LeanRoute } from './lean-route';
import { pathPattern } from './route-table';

/** The part of Fastify's options the server factory reads (Fastify fills in their defaults). */
interface ServerOptions {
  readonly keepAliveTimeout?: number;
  readonly requestTimeout?: number;
  readonly connectionTimeout?: number;
  readonly maxRequestsPerSocket?: number;
}

/** A JSON body's content type, as both instances' parsers match it. */
const JSON_TYPE = /^\s*application\/json\s*(;|$)/i;

/**
 * The rush's routes (LeanRoute: the grab, the reservation, the payment) answered by a bare
 * Fastify instance of their own, on the same server and port as Nest's: the server's request
 * listener hands a request whose method and path are a lean route's to this instance, and
 * every other request to Nest's.
 *
 * Why: Nest's adapter puts four onRequest hooks of its own, middie's and an onResponse hook on
 * every request of its instance, and routes every request through a version constraint; none
 * of it does anything for a lean route (load-tests/README.md has what leaving them bought).
 * This instance has only what the contract needs, set up by configureHttpApp with the same
 * code as Nest's instance: the same Fastify options (body limit, request id, framework errors),
 * error handler, request id echo, admission bound (one count for both), metrics and request log.
 *
 * What must stay true: every lean route is also mounted on Nest's instance, which answers
 * `inject()` (the spec apps) and any request this front does not take (a trailing slash, a
 * form body), so the front only decides which instance answers, never what.
 */
export class RushFront {
  readonly fastify: FastifyInstance;
  /** Per method, one pattern of every lean route's path; tested on the path without query. */
  private readonly patterns = new Map<string, RegExp>();
  /** The process's admission gate (configureHttpApp's), asked before either instance. */
  private admission: Admission | undefined;

  constructor(options: FastifyHttpOptions<Server>) {
    this.fastify = fastify(options);
  }

  /** Fastify's `serverFactory` for Nest's instance: one server, two instances behind it. */
  readonly serverFactory = (nest: RequestListener, options: ServerOptions): Server => {
    const server = createServer((request, response) => {
      // First: a request shed here never reaches either instance (admission.ts says why).
      if (this.admission && !this.admission.admit(request, response)) return;
      if (this.takes(request)) void this.fastify.routing(request, response);
      else nest(request, response);
    });
    server.once('close', () => this.admission?.close());
    // What Fastify does to a server it makes itself (a factory's server gets none of it).
    if (options.keepAliveTimeout !== undefined) server.keepAliveTimeout = options.keepAliveTimeout;
    if (options.requestTimeout !== undefined) server.requestTimeout = options.requestTimeout;
    if (options.connectionTimeout !== undefined) server.setTimeout(options.connectionTimeout);
    if ((options.maxRequestsPerSocket ?? 0) > 0) {
      server.maxRequestsPerSocket = options.maxRequestsPerSocket ?? 0;
    }
    return server;
  };

  /**
   * The gate every request of the server passes first, whichever instance then answers it: one
   * bound for the process. Before `listen()`.
   */
  admitWith(admission: Admission): void {
    this.admission = admission;
  }

  /** Which requests this front answers: the routes' method and path. Before `ready()`. */
  take(routes: readonly LeanRoute[]): void {
    const byMethod = new Map<string, string[]>();
    for (const route of routes) {
      byMethod.set(route.method, [...(byMethod.get(route.method) ?? []), pathPattern(route.url)]);
    }
    for (const [method, sources] of byMethod) {
      // The router reads the path up to `?` or `#`.
      this.patterns.set(method, new RegExp(`^(?:${sources.join('|')})(?:[?#]|$)`));
    }
  }

  /**
   * Is this request one of the front's routes, with a JSON body or none? Nest's instance also
   * parses form bodies (its adapter's parser; this instance has Fastify's own, JSON and text
   * only), so any other body is left to it, to be answered as it always was.
   */
  takes(request: IncomingMessage): boolean {
    const pattern = this.patterns.get(request.method ?? '');
    if (pattern === undefined || !pattern.test(request.url ?? '')) return false;
    const type = request.headers['content-type'];
    return type === undefined || JSON_TYPE.test(type);
  }
}
