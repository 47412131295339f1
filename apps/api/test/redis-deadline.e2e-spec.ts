import {
  api,
  ApiResponse,
  DedicatedRedis,
  DropBody,
  eventually,
  openDropBody,
  OrderBody,
  ServiceProcess,
  slotPort,
  tokenFor,
  uniqueId,
} from '@flashdrop/testing';

/**
 * No request waits on Redis for good (issue 11, "a request must not hang while Redis is
 * unreachable"): an API process of the test's own, on a Redis of its own, with a deadline of
 * 1 s on each Redis command. While that Redis is stopped (SIGSTOP: connections stay open, no
 * answer, no error, as a hung server or a lost network looks), and after it was killed, every
 * route that needs Redis answers 503 SERVICE_UNAVAILABLE with Retry-After, in the contract's
 * shape; liveness still answers. Once Redis is back, a grab retried with its Idempotency-Key
 * has exactly one outcome, whether or not the first attempt ran.
 *
 * The client here gives up after 30 s, thirty times the server's bound: without the deadline
 * the requests made while Redis is stopped are answered only once it runs again.
 */
describe('a Redis that does not answer: 503 with Retry-After, never a hang', () => {
  const redis = new DedicatedRedis(slotPort(6486));
  const port = slotPort(4344);
  const baseUrl = `http://127.0.0.1:${port}`;
  const service = new ServiceProcess('api', {
    API_PORT: String(port),
    REDIS_URL: redis.url,
    REDIS_COMMAND_TIMEOUT_MS: '1000',
  });
  const call = <T>(method: string, path: string, token?: string, key?: string) =>
    api<T>(method, path, {
      baseUrl,
      token,
      headers: key ? { 'idempotency-key': key } : undefined,
      giveUpAfterMs: 30_000,
    });
  const expectUnavailable = (res: ApiResponse) => {
    expect(res.status).toBe(503);
    expect(res.body).toMatchObject({ error: 'SERVICE_UNAVAILABLE' });
    expect(typeof (res.body as { message?: unknown }).message).toBe('string');
    expect(Number(res.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
  };
  let paused: number | undefined;

  beforeAll(async () => {
    redis.start();
    await redis.flush();
    service.start();
    await service.waitForHttp(`${baseUrl}/health/live`);
  }, 90_000);
  afterAll(async () => {
    if (paused !== undefined) redis.resume(paused);
    await service.stop();
    redis.stop();
  }, 30_000);

  async function openDrop(): Promise<DropBody> {
    const brand = tokenFor('brand', uniqueId('brand'));
    const res = await api<DropBody>('POST', '/v1/drops', {
      baseUrl,
      token: brand,
      body: openDropBody({ quantity: 10, perUserLimit: 2 }),
    });
    expect(res.status).toBe(201);
    return res.body;
  }

  it('while Redis is stopped: reads, grabs and order lists answer 503; once back, the retried grab has one outcome', async () => {
    const drop = await openDrop();
    const fan = uniqueId('fan');
    const fanToken = tokenFor('fan', fan);
    const key = uniqueId('key');

    paused = redis.pause();
    try {
      const [view, grab, orders] = await Promise.all([
        call('GET', `/v1/drops/${drop.id}`),
        call<OrderBody>('POST', `/v1/drops/${drop.id}/purchases`, fanToken, key),
        call('GET', '/v1/orders', fanToken),
      ]);
      expectUnavailable(view);
      expectUnavailable(grab);
      expectUnavailable(orders);
      expect((await call('GET', '/health/live')).status).toBe(200);
    } finally {
      redis.resume(paused);
      paused = undefined;
    }

    // The first grab may have run once Redis went on (it was sent): the retry with its key
    // answers that order, or makes the one order. Either way one order, one unit out of stock.
    let retried: ApiResponse<OrderBody> | undefined;
    expect(
      await eventually(async () => {
        retried = await call<OrderBody>('POST', `/v1/drops/${drop.id}/purchases`, fanToken, key);
        return retried.status !== 503;
      }, 20_000),
    ).toBe(true);
    expect(retried?.status).toBe(201);
    const again = await call<OrderBody>('POST', `/v1/drops/${drop.id}/purchases`, fanToken, key);
    expect(again.body.id).toBe(retried?.body.id);
    const list = await call<OrderBody[]>('GET', '/v1/orders', fanToken);
    expect(list.body.filter((o) => o.dropId === drop.id).map((o) => o.id)).toEqual([
      retried?.body.id,
    ]);
    expect((await call<DropBody>('GET', `/v1/drops/${drop.id}`)).body.remaining).toBe(9);
  }, 120_000);

  it('while Redis is down (killed): 503, not 500; served again once it is back', async () => {
    const drop = await openDrop();
    const fanToken = tokenFor('fan', uniqueId('fan'));
    redis.kill9();
    try {
      expectUnavailable(await call('GET', `/v1/drops/${drop.id}`));
      expectUnavailable(await call('POST', `/v1/drops/${drop.id}/purchases`, fanToken));
    } finally {
      redis.start();
    }
    expect(
      await eventually(
        async () => (await call('GET', `/v1/drops/${drop.id}`)).status === 200,
        20_000,
      ),
    ).toBe(true);
  }, 120_000);
});
