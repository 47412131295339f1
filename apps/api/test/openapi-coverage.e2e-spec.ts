import { api, API_STATUS_LOG_ENV } from '@flashdrop/testing';
import { existsSync, readFileSync } from 'node:fs';
import type { OpenAPIV3 } from 'openapi-types';

/** Served on the origin but not API for clients: the document itself, metrics, the page's files. */
const NOT_DOCUMENTED = /^\/(docs(\/|$)|metrics$|ops\/assets\/)/;

interface Seen {
  readonly method: string;
  readonly path: string;
  readonly status: number;
}

/** The document's path template a concrete path falls under (the most literal one). */
function templateOf(doc: OpenAPIV3.Document, path: string): string | undefined {
  const patternOf = (template: string) =>
    new RegExp(
      `^${template
        .split('/')
        .map((seg) =>
          /^\{[^}]+\}$/.test(seg) ? '[^/]+' : seg.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'),
        )
        .join('/')}$`,
    );
  const matching = Object.keys(doc.paths).filter((template) => patternOf(template).test(path));
  const params = (t: string) => (t.match(/\{/g) ?? []).length;
  return matching.sort((a, b) => params(a) - params(b))[0];
}

/**
 * Runs after every other e2e test (scripts/jest-sequencer.js): every status the public origin
 * answered through libs/testing `api()` in this run (recorded in API_STATUS_LOG) is documented
 * for its route in /docs/openapi.json, so a client generated from the document knows every
 * answer it can get. A request for a path or method no route serves (the 404 and 405 tests) is
 * not a route's answer, and is left out.
 */
describe('every status the e2e tests saw is in the OpenAPI document', () => {
  const log = process.env[API_STATUS_LOG_ENV];

  (log ? it : it.skip)('route by route', async () => {
    const doc = (await api<OpenAPIV3.Document>('GET', '/docs/openapi.json')).body;
    const seen = new Map<string, Seen>();
    if (existsSync(log!)) {
      for (const line of readFileSync(log!, 'utf8').split('\n')) {
        if (!line) continue;
        const s = JSON.parse(line) as Seen;
        const path = s.path.split('?')[0];
        seen.set(`${s.method} ${path} ${s.status}`, { ...s, path });
      }
    }
    const undocumented = new Set<string>();
    let checked = 0;
    for (const { method, path, status } of seen.values()) {
      if (NOT_DOCUMENTED.test(path) || method === 'HEAD' || method === 'OPTIONS') continue;
      const template = templateOf(doc, path);
      const op = template
        ? (doc.paths[template] as Record<string, OpenAPIV3.OperationObject>)[method.toLowerCase()]
        : undefined;
      if (!op) {
        if (status !== 404 && status !== 405) undocumented.add(`${method} ${path}: no such route`);
        continue;
      }
      checked++;
      if (!op.responses[String(status)]) undocumented.add(`${method} ${template} ${status}`);
    }
    process.stdout.write(
      `openapi coverage: ${seen.size} (method, path, status) seen, ${checked} checked\n`,
    );
    expect([...undocumented].sort()).toEqual([]);
  });
});
