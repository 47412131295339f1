import { connectRedis, RedisClient } from '@flashdrop/persistence';
import {
  createDrop,
  dropKeys,
  errorOf,
  grabVia,
  openDropBody,
  ServiceProcess,
  slotPort,
  testConfig,
  tokenFor,
  uniqueId,
} from '@flashdrop/testing';

/**
 * Admission control on the public origin (issue 11, "Overload"): an API process of the test's
 * own, beside the stack, on the stack's servers, with a bound of 8 requests in flight. A burst
 * of 400 grabs at once: those past the bound are answered 503 SERVICE_UNAVAILABLE with
 * Retry-After at once, in the contract's error shape, and wrote nothing; the others are served
 * as usual; the probes are never shed.
 */
describe('admission control (an API of its own, bound 8)', () => {
  const port = slotPort(3386);
  const base = `http://127.0.0.1:${port}`;
  const api = new ServiceProcess('api', { API_PORT: String(port), API_MAX_IN_FLIGHT: '8' });
  let redis: RedisClient;

  beforeAll(async () => {
    api.start();
    await api.waitForHttp(`${base}/health/live`, 60_000);
    redis = connectRedis(testConfig());
  }, 90_000);
  afterAll(async () => {
    await api.stop();
    await redis.quit();
  });

  it('sheds what is past the bound with 503 + Retry-After; what it served is all that was written', async () => {
    const drop = await createDrop(openDropBody({ quantity: 1000, perUserLimit: 1 }));
    const fans = Array.from({ length: 400 }, () => uniqueId('fan'));
    const probes: Promise<number>[] = [];
    const answers = await Promise.all(
      fans.map((fan, i) => {
        if (i % 50 === 0) {
          probes.push(fetch(`${base}/health/live`).then((r) => r.status));
        }
        return grabVia(drop.id, tokenFor('fan', fan), undefined, undefined, base);
      }),
    );
    const shed = answers.filter((r) => r.status === 503);
    const created = answers.filter((r) => r.status === 201);
    expect(shed.length).toBeGreaterThan(0);
    expect(created.length).toBeGreaterThan(0);
    expect(shed.length + created.length).toBe(fans.length);
    for (const r of shed) {
      expect(errorOf(r)).toBe('SERVICE_UNAVAILABLE');
      expect(typeof (r.body as { message?: unknown }).message).toBe('string');
      expect(Number(r.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    }
    expect(await Promise.all(probes)).toEqual(probes.map(() => 200));
    // Nothing of a shed grab was written: stock and the fans' units count the 201s only.
    const k = dropKeys(drop.id);
    expect(Number(await redis.get(k.stock))).toBe(1000 - created.length);
    const units = await redis.hvals(k.fans);
    expect(units.reduce((n, v) => n + Number(v), 0)).toBe(created.length);
    // Once the burst is over, the process serves again.
    const after = await grabVia(
      drop.id,
      tokenFor('fan', uniqueId('fan')),
      undefined,
      undefined,
      base,
    );
    expect(after.status).toBe(201);
  }, 60_000);
});
