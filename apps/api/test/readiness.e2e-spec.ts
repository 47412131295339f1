import { api, DedicatedRedis, eventually, ServiceProcess, slotPort } from '@flashdrop/testing';

/**
 * Readiness follows the real servers: an API process of the test's own, on its own Redis
 * (so stopping that Redis disturbs nothing else), turns not-ready when Redis stops and ready
 * again when it comes back.
 */
describe('GET /health/ready', () => {
  const redis = new DedicatedRedis(slotPort(6391));
  const port = slotPort(3391);
  const baseUrl = `http://127.0.0.1:${port}`;
  const service = new ServiceProcess('api', { API_PORT: String(port), REDIS_URL: redis.url });

  beforeAll(async () => {
    redis.start();
    service.start();
    await service.waitForHttp(`${baseUrl}/health/live`);
  }, 60_000);

  afterAll(async () => {
    await service.stop();
    redis.stop();
  });

  const ready = () =>
    api<{ error?: string; details?: { field: string }[] }>('GET', '/health/ready', { baseUrl });

  it('is green with Redis, PostgreSQL and Kafka up, red while Redis is down, green again after', async () => {
    expect(await eventually(async () => (await ready()).status === 200, 20_000)).toBe(true);

    redis.kill9();
    expect(await eventually(async () => (await ready()).status === 503, 10_000)).toBe(true);
    const down = await ready();
    expect(down.body.error).toBe('SERVICE_UNAVAILABLE');
    expect(down.body.details?.map((d) => d.field)).toEqual(['redis']);

    redis.start();
    expect(await eventually(async () => (await ready()).status === 200, 20_000)).toBe(true);
  }, 90_000);

  it('answers liveness while Redis is down', async () => {
    expect(await eventually(async () => (await ready()).status === 200, 20_000)).toBe(true);
    redis.kill9();
    try {
      // Down for sure: readiness says so before and after the liveness probe.
      expect(await eventually(async () => (await ready()).status === 503, 10_000)).toBe(true);
      const live = await api('GET', '/health/live', { baseUrl });
      expect((await ready()).status).toBe(503);
      expect(live).toMatchObject({ status: 200, body: { status: 'ok' } });
    } finally {
      redis.start();
    }
    expect(await eventually(async () => (await ready()).status === 200, 20_000)).toBe(true);
  }, 90_000);
});
