import { Injectable, Module } from '@nestjs/common';
import { NestFastifyApplication } from '@nestjs/platform-fastify';
import { Test } from '@nestjs/testing';
import { signToken } from '@flashdrop/auth';
import { BODY_LIMIT_BYTES, configureHttpApp, frontedAdapter } from './bootstrap';
import { LeanRoute, LeanRouteProvider, leanOperation, ServesLeanRoutes } from './lean-route';
import { httpSpecImports, PublicThingsController } from './spec-imports';

const SECRET = 'rush-front-secret-0123456789';

/** A lean handler that waits until the test lets it answer (to hold a request in flight). */
let release: (() => void) | undefined;
let holding: Promise<void> = Promise.resolve();

@ServesLeanRoutes()
@Injectable()
class GrabRoute implements LeanRouteProvider {
  leanRoutes(): LeanRoute[] {
    return [
      {
        method: 'POST',
        url: '/things/:id/grab',
        roles: ['fan'],
        handle: async ({ principal, params, body }) => {
          await holding;
          return { status: 201, body: { id: params.id, fan: principal.sub, body } };
        },
        openapi: leanOperation({ tag: 't', summary: 'grab', responses: { 201: 'held' } }),
      },
    ];
  }
}

@Module({
  imports: httpSpecImports(SECRET),
  controllers: [PublicThingsController],
  providers: [GrabRoute],
})
class ThingsModule {}

/**
 * The rush front (RushFront): on a real socket the lean routes are answered by the front's own
 * Fastify instance, without Nest's hooks, and with exactly the answers Nest's instance gives
 * (its copy answers `inject()`); the admission bound is one count for both instances.
 */
describe('the rush front: lean routes on a Fastify instance of their own, same port', () => {
  let app: NestFastifyApplication;
  let base: string;
  /** Requests that went through Nest's instance (its onRequest hooks run for each). */
  let throughNest = 0;
  const fan = `Bearer ${signToken(SECRET, { sub: 'fan-1', role: 'fan' })}`;
  const brand = `Bearer ${signToken(SECRET, { sub: 'brand-1', role: 'brand' })}`;

  beforeAll(async () => {
    const moduleRef = await Test.createTestingModule({ imports: [ThingsModule] }).compile();
    const { adapter, rushFront } = frontedAdapter();
    app = moduleRef.createNestApplication<NestFastifyApplication>(adapter, { logger: false });
    app
      .getHttpAdapter()
      .getInstance()
      .addHook('onRequest', (_request, _reply, done) => {
        throughNest++;
        done();
      });
    configureHttpApp(app, { rushFront, admission: { maxInFlight: 1 } });
    await app.listen(0, '127.0.0.1');
    base = await app.getUrl();
  });
  afterAll(() => app.close());

  /** The same request over the socket (the front) and through inject (Nest's instance). */
  async function both(method: 'POST', url: string, headers: Record<string, string>, body?: string) {
    const before = throughNest;
    const viaSocket = await fetch(`${base}${url}`, { method, headers, body });
    const socket = {
      status: viaSocket.status,
      body: (await viaSocket.json()) as unknown,
      requestId: viaSocket.headers.get('x-request-id'),
      retryAfter: viaSocket.headers.get('retry-after'),
    };
    const nestSaw = throughNest - before;
    const viaInject = await app.inject({ method, url, headers, payload: body });
    const inject = {
      status: viaInject.statusCode,
      body: viaInject.json<unknown>(),
      requestId: viaInject.headers['x-request-id'] ?? null,
      retryAfter: viaInject.headers['retry-after'] ?? null,
    };
    return { socket, inject, nestSaw };
  }

  const json = { 'content-type': 'application/json' };
  it.each([
    ['a grab', { authorization: fan, ...json }, '{"quantity":1}', 201],
    ['no token', json, '{}', 401],
    ['the wrong role', { authorization: brand, ...json }, '{}', 403],
    ['malformed JSON', { authorization: fan, ...json }, '{"quantity": ', 400],
    ['an empty JSON body', { authorization: fan, ...json }, '', 400],
    ['no body at all', { authorization: fan }, undefined, 201],
    [
      'a body over 64 KiB',
      { authorization: fan, ...json },
      JSON.stringify({ x: 'y'.repeat(BODY_LIMIT_BYTES) }),
      413,
    ],
  ])(
    'answers %s over the socket from the front, as Nest would',
    async (_what, headers, body, status) => {
      const { socket, inject, nestSaw } = await both(
        'POST',
        '/things/t-1/grab?via=test',
        { ...headers, 'x-request-id': 'req-1' },
        body,
      );
      expect(nestSaw).toBe(0);
      expect(socket.status).toBe(status);
      expect(socket).toEqual(inject);
      expect(socket.requestId).toBe('req-1');
    },
  );

  it("leaves a form body to Nest's instance, whose parser reads it", async () => {
    const form = { authorization: fan, 'content-type': 'application/x-www-form-urlencoded' };
    const { socket, inject, nestSaw } = await both('POST', '/things/t-1/grab', form, 'quantity=2');
    expect(nestSaw).toBe(1);
    expect(socket).toEqual({ ...inject, requestId: expect.any(String) });
    expect(socket.body).toMatchObject({ body: { quantity: '2' } });
  });

  it('leaves every other request to Nest: its routes, and a lean path it does not take', async () => {
    const before = throughNest;
    expect((await fetch(`${base}/things/public`)).status).toBe(200);
    // The router would take a trailing slash for no route here: Nest's instance says 404.
    const slash = await fetch(`${base}/things/t-1/grab/`, {
      method: 'POST',
      headers: { authorization: fan, ...json },
      body: '{}',
    });
    expect(slash.status).toBe(404);
    expect(await slash.json()).toEqual({ error: 'NOT_FOUND', message: expect.any(String) });
    expect(throughNest - before).toBe(2);
  });

  it("counts the front's answers in the same metrics, under the route pattern", async () => {
    const metrics = await (await fetch(`${base}/metrics`)).text();
    expect(metrics).toMatch(
      /http_requests_total\{method="POST",route="\/things\/:id\/grab",status="201"\} [1-9]/,
    );
  });

  it('sheds past one bound shared by both instances, either way round', async () => {
    holding = new Promise<void>((resolve) => (release = resolve));
    const held = fetch(`${base}/things/t-2/grab`, {
      method: 'POST',
      headers: { authorization: fan, ...json },
      body: '{}',
    });
    // Until the grab is in the handler, a request may still find the bound free.
    for (let i = 0; i < 50; i++) {
      const shed = await fetch(`${base}/things/public`);
      if (shed.status === 503) break;
      await new Promise((r) => setTimeout(r, 10));
    }
    const nest = await fetch(`${base}/things/public`);
    expect(nest.status).toBe(503);
    expect(Number(nest.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    const front = await fetch(`${base}/things/t-3/grab`, {
      method: 'POST',
      headers: { authorization: fan, ...json },
      body: '{}',
    });
    expect(front.status).toBe(503);
    expect(await front.json()).toEqual({
      error: 'SERVICE_UNAVAILABLE',
      message: expect.any(String),
    });
    release?.();
    holding = Promise.resolve();
    expect((await held).status).toBe(201);
    expect((await fetch(`${base}/things/public`)).status).toBe(200);
  });
});
