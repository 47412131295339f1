import { FastifyInstance } from 'fastify';

/**
 * Which methods each path serves, learnt from Fastify's onRoute hook (Nest's routes, the lean
 * routes, /docs, HEAD for every GET), so that a request for a path that exists with another
 * method is answered 405 METHOD_NOT_ALLOWED with `Allow` (docs/api.md "General"), not 404.
 */
export class RouteTable {
  private readonly routes = new Map<string, { pattern: RegExp; methods: Set<string> }>();

  /** Must run before the routes are registered (it sees only routes added after it). */
  static listen(fastify: FastifyInstance): RouteTable {
    const table = new RouteTable();
    fastify.addHook('onRoute', (route) => {
      const methods = Array.isArray(route.method) ? route.method : [route.method];
      for (const method of methods) table.add(String(method), route.url ?? route.path);
    });
    return table;
  }

  add(method: string, url: string): void {
    let entry = this.routes.get(url);
    if (!entry) {
      entry = { pattern: patternOf(url), methods: new Set() };
      this.routes.set(url, entry);
    }
    entry.methods.add(method.toUpperCase());
  }

  /** The methods some route serves for this path (query string ignored), sorted; [] if none. */
  allowed(url: string): string[] {
    const path = url.split('?')[0];
    const methods = new Set<string>();
    for (const { pattern, methods: served } of this.routes.values()) {
      if (pattern.test(path)) for (const m of served) methods.add(m);
    }
    return [...methods].sort();
  }
}

/** A Fastify path (`/v1/drops/:id`, `/docs/*`) as an anchored regular expression. */
function patternOf(url: string): RegExp {
  return new RegExp(`^${pathPattern(url)}$`);
}

/** A Fastify path as a regular expression's source, unanchored (RushFront joins several). */
export function pathPattern(url: string): string {
  return url
    .split('/')
    .map((part) => {
      if (part === '*') return '.*';
      if (part.startsWith(':')) return '[^/]+';
      return part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    })
    .join('/');
}
