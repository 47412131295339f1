import { Injectable, Module } from '@nestjs/common';
import { NestFastifyApplication } from '@nestjs/platform-fastify';
import { Test } from '@nestjs/testing';
import { signToken } from '@flashdrop/auth';
import { AdmissionOptions } from './admission';
import { configureHttpApp, frontedAdapter } from './bootstrap';
import { LeanRoute, LeanRouteProvider, leanOperation, ServesLeanRoutes } from './lean-route';
import { httpSpecImports, PublicThingsController } from './spec-imports';

const SECRET = 'admission-spec-secret-0123456789';

/** Work requests that entered the handler, and those done. */
let started = 0;
let finished = 0;
/** How long each turn of a work request keeps the loop to itself (ms), and how many turns. */
let blockMs = 10;
let turns = 60;

function busy(ms: number): void {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    // the event loop is held here, as by a request's own CPU work
  }
}

/** A lean route whose request keeps the event loop busy: `turns` blocks, a turn apart. */
@ServesLeanRoutes()
@Injectable()
class WorkRoute implements LeanRouteProvider {
  leanRoutes(): LeanRoute[] {
    return [
      {
        method: 'POST',
        url: '/work/:id',
        roles: ['fan'],
        handle: async ({ params }) => {
          started++;
          for (let i = 0; i < turns; i++) {
            busy(blockMs);
            await new Promise((resolve) => setImmediate(resolve));
          }
          finished++;
          return { status: 201, body: { id: params.id } };
        },
        openapi: leanOperation({ tag: 't', summary: 'work', responses: { 201: 'done' } }),
      },
    ];
  }
}

@Module({
  imports: httpSpecImports(SECRET),
  controllers: [PublicThingsController],
  providers: [WorkRoute],
})
class WorkModule {}

/**
 * Admission control sheds in the server's request listener, before Fastify (admission.ts): on
 * a loop kept busy by admitted requests, every request past the bound is answered 503 while
 * the admitted ones are still working, and none of the shed ones reached either Fastify
 * instance (no hook of theirs ran). Asserted on order and counts, not on a timer: the box may be
 * as slow as it likes.
 */
describe('admission: shed at the server, before Fastify, while the loop is busy', () => {
  let app: NestFastifyApplication;
  let base: string;
  /** Requests either Fastify instance saw (an onRequest hook of each). */
  let reachedFastify = 0;
  const fan = `Bearer ${signToken(SECRET, { sub: 'fan-1', role: 'fan' })}`;

  async function start(admission: Omit<AdmissionOptions, 'registry'>) {
    const moduleRef = await Test.createTestingModule({ imports: [WorkModule] }).compile();
    const { adapter, rushFront } = frontedAdapter();
    app = moduleRef.createNestApplication<NestFastifyApplication>(adapter, { logger: false });
    for (const instance of [app.getHttpAdapter().getInstance(), rushFront.fastify]) {
      instance.addHook('onRequest', (_request, _reply, done) => {
        reachedFastify++;
        done();
      });
    }
    configureHttpApp(app, { rushFront, admission });
    await app.listen(0, '127.0.0.1');
    base = await app.getUrl();
  }
  afterEach(async () => {
    await app?.close();
    started = 0;
    finished = 0;
  });

  const work = (id: string) =>
    fetch(`${base}/work/${id}`, {
      method: 'POST',
      headers: { authorization: fan, 'content-type': 'application/json' },
      body: '{}',
    });
  /**
   * Until the condition holds, one turn of the loop at a time. Bounded by time, not by a count of
   * turns: on a loaded box the two requests' sockets can take thousands of turns to arrive.
   */
  async function turnsUntil(condition: () => boolean, mostMs = 10_000) {
    const until = Date.now() + mostMs;
    while (!condition() && Date.now() < until) {
      await new Promise((resolve) => setImmediate(resolve));
    }
    expect(condition()).toBe(true);
  }

  it('past the in-flight bound: every 503 answered before the admitted work ends, none seen by Fastify', async () => {
    blockMs = 10;
    turns = 60;
    await start({ maxInFlight: 2 });
    const admitted = [work('a'), work('b')];
    await turnsUntil(() => started === 2);
    const seenBefore = reachedFastify;
    const answers = await Promise.all(
      Array.from({ length: 40 }, async () => {
        const res = await fetch(`${base}/things/public`, { headers: { 'x-request-id': 'r-1' } });
        return {
          status: res.status,
          retryAfter: res.headers.get('retry-after'),
          requestId: res.headers.get('x-request-id'),
          body: (await res.json()) as unknown,
          workDone: finished,
        };
      }),
    );
    for (const a of answers) {
      expect(a).toEqual({
        status: 503,
        retryAfter: '1',
        requestId: 'r-1',
        body: { error: 'SERVICE_UNAVAILABLE', message: expect.any(String) },
        // Answered while both admitted requests were still at work.
        workDone: 0,
      });
    }
    expect(reachedFastify).toBe(seenBefore);
    expect((await Promise.all(admitted)).map((r) => r.status)).toEqual([201, 201]);
    // The bound is free again: served, through Fastify.
    expect((await fetch(`${base}/things/public`)).status).toBe(200);
    expect(reachedFastify).toBe(seenBefore + 1);
    const metrics = await (await fetch(`${base}/metrics`)).text();
    expect(metrics).toMatch(/http_requests_shed_total\{reason="in_flight"\} 40\b/);
  }, 30_000);

  it('an event loop held back past its bound: shed below the in-flight bound, until it catches up', async () => {
    // Each turn of the work holds the loop 60 ms, far past the 20 ms bound.
    blockMs = 60;
    turns = 40;
    await start({ maxInFlight: 1_000, maxEventLoopDelayMs: 20 });
    const admitted = work('slow');
    await turnsUntil(() => started === 1);
    // One request at a time until one is shed (the watch judges every 100 ms of the loop's).
    // Those served before the watch saw the delay went through Fastify; the shed one did not.
    let shed: { status: number; retryAfter: string | null; body: unknown; fastify: number } = {
      status: 0,
      retryAfter: null,
      body: undefined,
      fastify: -1,
    };
    for (let i = 0; i < 200 && finished === 0 && shed.status !== 503; i++) {
      const seen = reachedFastify;
      const res = await fetch(`${base}/things/public`);
      shed = {
        status: res.status,
        retryAfter: res.headers.get('retry-after'),
        body: (await res.json()) as unknown,
        fastify: reachedFastify - seen,
      };
    }
    expect(finished).toBe(0);
    expect(shed).toEqual({
      status: 503,
      retryAfter: '1',
      body: { error: 'SERVICE_UNAVAILABLE', message: expect.any(String) },
      fastify: 0,
    });
    expect((await admitted).status).toBe(201);
    // The loop caught up: served again (bounded: the watch looks again within 100 ms).
    let again = 0;
    for (let i = 0; i < 200 && again !== 200; i++) {
      again = (await fetch(`${base}/things/public`)).status;
      if (again !== 200) await new Promise((resolve) => setTimeout(resolve, 20));
    }
    expect(again).toBe(200);
    const metrics = await (await fetch(`${base}/metrics`)).text();
    expect(metrics).toMatch(/http_requests_shed_total\{reason="event_loop_delay"\} [1-9]/);
  }, 30_000);
});
