import SwaggerParser from '@apidevtools/swagger-parser';
import { api, tokenFor } from '@flashdrop/testing';
import type { OpenAPIV3 } from 'openapi-types';
import { SUCCESS_BODIES } from '../src/openapi/success-bodies';

type Operation = OpenAPIV3.OperationObject;
const METHODS = ['get', 'put', 'post', 'delete', 'patch'] as const;

function operations(doc: OpenAPIV3.Document): { method: string; path: string; op: Operation }[] {
  return Object.entries(doc.paths).flatMap(([path, item]) =>
    METHODS.filter((m) => item?.[m]).map((method) => ({ method, path, op: item![method]! })),
  );
}

/**
 * /docs/openapi.json is what clients are generated from (docs/api.md): a valid OpenAPI 3
 * document (@apidevtools/swagger-parser), every path parameter declared, every refusal with the
 * contract's error body, security per route, the lean routes in it. Whether it names every
 * status a route really answers is checked at the end of the run (openapi-coverage.e2e-spec.ts).
 */
describe('the OpenAPI document', () => {
  let doc: OpenAPIV3.Document;

  beforeAll(async () => {
    const res = await api<OpenAPIV3.Document>('GET', '/docs/openapi.json');
    expect(res.status).toBe(200);
    doc = res.body;
  });

  it('is a valid OpenAPI 3 document', async () => {
    // validate() dereferences in place: hand it a copy.
    await expect(SwaggerParser.validate(structuredClone(doc) as never)).resolves.toBeDefined();
    expect(doc.openapi).toMatch(/^3\./);
  });

  it('declares every parameter of every path template', () => {
    const undeclared = operations(doc).flatMap(({ method, path, op }) =>
      [...path.matchAll(/\{([^}]+)\}/g)]
        .map((m) => m[1])
        .filter(
          (name) =>
            !(op.parameters ?? []).some(
              (p) => 'in' in p && p.in === 'path' && p.name === name && p.required,
            ),
        )
        .map((name) => `${method.toUpperCase()} ${path}: {${name}}`),
    );
    expect(undeclared).toEqual([]);
  });

  it('documents a success for every operation', () => {
    // A route that declares its refusals must keep the success Nest's scanner gives it.
    const without = operations(doc)
      .filter(({ op }) => !Object.keys(op.responses).some((s) => /^2\d\d$/.test(s)))
      .map(({ method, path }) => `${method.toUpperCase()} ${path}`);
    expect(without).toEqual([]);
  });

  it('gives every success its body schema (apps/api/src/openapi/success-bodies.ts)', () => {
    const ops = operations(doc).map(({ method, path, op }) => ({
      name: `${method.toUpperCase()} ${path}`,
      op,
    }));
    // Every operation is described, and nothing names a ghost.
    const names = ops.map((o) => o.name);
    expect(names.filter((n) => !(n in SUCCESS_BODIES))).toEqual([]);
    expect(Object.keys(SUCCESS_BODIES).filter((n) => !names.includes(n))).toEqual([]);
    // Each 2xx but a 204 names at least one media type, each with its schema; a 204 none.
    const wrong = ops.flatMap(({ name, op }) =>
      Object.entries(op.responses)
        .filter(([s]) => /^2\d\d$/.test(s))
        .filter(([s, r]) => {
          const media = Object.values(('content' in r && r.content) || {});
          return s === '204'
            ? media.length > 0
            : media.length === 0 || media.some((m) => !m.schema);
        })
        .map(([s]) => `${name} ${s}`),
    );
    expect(wrong).toEqual([]);
  });

  it('gives every refusal the error body, and 429/503 their Retry-After', () => {
    const errorRef = '#/components/schemas/Error';
    expect(doc.components?.schemas?.Error).toBeDefined();
    const bad: string[] = [];
    for (const { method, path, op } of operations(doc)) {
      for (const [status, response] of Object.entries(op.responses)) {
        if (Number(status) < 400) continue;
        const r = response as OpenAPIV3.ResponseObject;
        const schema = r.content?.['application/json']?.schema as OpenAPIV3.ReferenceObject;
        if (schema?.$ref !== errorRef) bad.push(`${method} ${path} ${status}: no error body`);
        if ((status === '429' || status === '503') && !r.headers?.['Retry-After'])
          bad.push(`${method} ${path} ${status}: no Retry-After`);
      }
    }
    expect(bad).toEqual([]);
  });

  it('says which routes need a token, route by route', () => {
    const security = (method: string, path: string) =>
      (doc.paths[path] as Record<string, Operation>)[method].security ?? doc.security ?? [];
    expect(security('get', '/v1/drops/{id}')).toEqual([]); // public
    expect(security('get', '/health/live')).toEqual([]);
    for (const [method, path] of [
      ['post', '/v1/drops'],
      ['patch', '/v1/drops/{id}'],
      ['post', '/v1/drops/{id}/purchases'],
      ['post', '/v1/drops/{id}/reservations'],
      ['post', '/v1/orders/{id}/payment'],
      ['get', '/v1/drops/{id}/stats'],
      ['post', '/v1/wallets/{fanId}/credits'],
    ]) {
      expect([method, path, security(method, path)]).toEqual([method, path, [{ bearer: [] }]]);
    }
  });

  it('holds the lean routes, and the refusals a real answer gives match its schema', async () => {
    for (const path of [
      '/v1/drops/{id}/purchases',
      '/v1/drops/{id}/reservations',
      '/v1/orders/{id}/payment',
    ]) {
      expect(doc.paths[path]?.post).toBeDefined();
    }
    // A real refusal, checked against what the document says of it.
    const res = await api('POST', '/v1/drops/d000000000000/purchases', {
      token: tokenFor('fan'),
      body: { quantity: 1 },
    });
    expect(res.status).toBe(404);
    const body = res.body as Record<string, unknown>;
    const schema = doc.components!.schemas!.Error as OpenAPIV3.SchemaObject;
    expect(Object.keys(body).every((k) => k in schema.properties!)).toBe(true);
    for (const field of schema.required!) expect(typeof body[field]).toBe('string');
    expect((schema.properties!.error as OpenAPIV3.SchemaObject).enum as string[]).toContain(
      body.error,
    );
  });
});
