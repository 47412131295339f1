import { performance } from 'node:perf_hooks';
import { DedicatedRedis, slotPort } from '@flashdrop/testing';
import { createRedis, isRedisUnavailable, RedisClient } from './redis';

const DEADLINE_MS = 400;

/** The command's outcome and when it came, measured from just before it was sent. */
async function timed<T>(
  send: () => Promise<T>,
): Promise<{ value?: T; error?: unknown; afterMs: number }> {
  const start = performance.now();
  try {
    const value = await send();
    return { value, afterMs: performance.now() - start };
  } catch (error) {
    return { error, afterMs: performance.now() - start };
  }
}

/**
 * The connection's command deadline (command-deadline.ts) against a real Redis of the test's
 * own, SIGSTOPped: connections stay open and nothing is answered, as a hung server or a lost
 * network looks. Every command then fails with the error the API turns into a 503, never before
 * its deadline; commands answered in time are untouched, before and after.
 */
describe('a deadline on every Redis command, kept by one sweep', () => {
  const server = new DedicatedRedis(slotPort(6615));
  let redis: RedisClient;
  let paused: number | undefined;

  beforeAll(async () => {
    server.start();
    await server.flush();
    redis = createRedis(server.url, { commandDeadlineMs: DEADLINE_MS, maxRetriesPerRequest: 1 });
    await redis.ping();
  }, 30_000);
  afterAll(async () => {
    if (paused !== undefined) server.resume(paused);
    await redis.quit().catch(() => redis.disconnect());
    server.stop();
  }, 30_000);

  it('answers in time are untouched; unanswered commands fail once due, pipelined or not', async () => {
    // 500 commands in flight together (one auto-pipelined write), all answered.
    const answered = await Promise.all(
      Array.from({ length: 500 }, (_, i) => redis.set(`deadline:${i}`, String(i))),
    );
    expect(answered.every((a) => a === 'OK')).toBe(true);

    paused = server.pause();
    let stuck: Awaited<ReturnType<typeof timed>>[];
    try {
      stuck = await Promise.all([
        ...Array.from({ length: 300 }, (_, i) => timed(() => redis.get(`deadline:${i}`))),
        timed(() => redis.eval('return 1', 0)),
        timed(() => redis.multi().incr('deadline:n').incr('deadline:n').exec()),
      ]);
    } finally {
      server.resume(paused);
      paused = undefined;
    }
    for (const outcome of stuck) {
      expect(outcome.value).toBeUndefined();
      expect(isRedisUnavailable(outcome.error)).toBe(true);
      expect((outcome.error as Error).message).toBe('Command timed out');
      // Never before the deadline (no upper bound asserted: the box may be slow).
      expect(outcome.afterMs).toBeGreaterThanOrEqual(DEADLINE_MS - 1);
    }

    // The connection serves again, and the late answers to the failed commands did not land on
    // anything else: each command below gets its own answer.
    const after = await Promise.all(
      Array.from({ length: 200 }, (_, i) => redis.get(`deadline:${i}`)),
    );
    expect(after).toEqual(Array.from({ length: 200 }, (_, i) => String(i)));
  }, 60_000);

  it('a connection without a deadline waits for Redis as long as it takes', async () => {
    const patient = createRedis(server.url);
    await patient.ping();
    paused = server.pause();
    const late = timed(() => patient.get('deadline:7'));
    try {
      // Twice the other connection's deadline, then the server goes on and answers.
      await new Promise((resolve) => setTimeout(resolve, DEADLINE_MS * 2));
    } finally {
      server.resume(paused);
      paused = undefined;
    }
    const outcome = await late;
    expect(outcome.error).toBeUndefined();
    expect(outcome.value).toBe('7');
    await patient.quit();
  }, 30_000);
});
