import { readFileSync } from 'node:fs';
import { DataSource } from 'typeorm';
import {
  api,
  ApiResponse,
  DedicatedPostgres,
  DedicatedRedis,
  DropBody,
  eventually,
  migrateSchema,
  openDropBody,
  OrderBody,
  portOpen,
  ServiceProcess,
  slotPort,
  testDatabase,
  tokenFor,
  uniqueId,
} from '@flashdrop/testing';

/**
 * No request waits on PostgreSQL for good (issue 11, deadlines on a request's PostgreSQL
 * calls): an API and a wallet of the test's own on a PostgreSQL server (and a Redis) of their
 * own, with POSTGRES_QUERY_TIMEOUT_MS=1000. While that server is stopped (SIGSTOP of the
 * postmaster and every backend: connections stay open, nothing answers, no error, as a hung
 * server or a lost network looks), the routes that need PostgreSQL answer 503
 * SERVICE_UNAVAILABLE with Retry-After in the contract's shape: the API's own (a drop's
 * creation, a brand's list) and the wallet's (a credit, a balance: the wallet answers
 * SERVICE_UNAVAILABLE itself, well before the API's WALLET_TIMEOUT_MS of 20 s here). What needs
 * only Redis (a drop's view, a grab) is still served. Once the server goes on, every write
 * acknowledged before or during the stop is there, and a credit retried with its reference is
 * counted once, whether or not the first attempt ran.
 *
 * The client gives up after 30 s, thirty times the bound: without the deadline these requests
 * are answered only once the server runs again.
 */
describe('a PostgreSQL that does not answer: 503 with Retry-After, never a hang', () => {
  const pg = new DedicatedPostgres(slotPort(5447));
  const redis = new DedicatedRedis(slotPort(6524));
  const apiPort = slotPort(4341);
  const walletPort = slotPort(3709);
  const baseUrl = `http://127.0.0.1:${apiPort}`;
  const env = {
    API_PORT: String(apiPort),
    WALLET_PORT: String(walletPort),
    REDIS_URL: redis.url,
    DATABASE_URL: pg.url,
    POSTGRES_QUERY_TIMEOUT_MS: '1000',
    WALLET_TIMEOUT_MS: '20000',
  };
  const wallet = new ServiceProcess('wallet', env);
  const service = new ServiceProcess('api', env);
  const operator = tokenFor('operator');
  let db: DataSource | undefined;
  let paused: number[] | undefined;

  const call = <T>(method: string, path: string, token?: string, body?: unknown) =>
    api<T>(method, path, { baseUrl, token, body, giveUpAfterMs: 30_000 });
  const expectUnavailable = (res: ApiResponse, what: string) => {
    expect({ what, status: res.status, body: res.body }).toMatchObject({
      what,
      status: 503,
      body: { error: 'SERVICE_UNAVAILABLE' },
    });
    expect(typeof (res.body as { message?: unknown }).message).toBe('string');
    expect(Number(res.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
  };
  const credit = (fanId: string, amountMinor: number, reference: string) =>
    call<{ balanceMinor: number }>('POST', `/v1/wallets/${fanId}/credits`, operator, {
      amountMinor,
      reference,
    });
  const balanceOf = async (fanId: string) =>
    (await call<{ balanceMinor: number }>('GET', '/v1/wallet', tokenFor('fan', fanId))).body
      .balanceMinor;

  beforeAll(async () => {
    pg.start();
    redis.start();
    await redis.flush();
    db = await testDatabase(pg.url);
    for (const schema of ['sales', 'wallet', 'webhooks'] as const) {
      await db.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      migrateSchema(schema, pg.url);
    }
    wallet.start();
    expect(await eventually(() => portOpen(walletPort), 30_000)).toBe(true);
    service.start();
    await service.waitForHttp(`${baseUrl}/health/live`);
  }, 120_000);

  afterAll(async () => {
    if (paused !== undefined) pg.resume(paused);
    await service.stop();
    await wallet.stop();
    await db?.destroy().catch(() => undefined);
    redis.stop();
    pg.stop();
  }, 60_000);

  it('while PostgreSQL is stopped: 503 from the API and from the wallet; Redis-only routes served; nothing acknowledged lost', async () => {
    const brandId = uniqueId('brand');
    const brand = tokenFor('brand', brandId);
    const fan = uniqueId('fan');
    const created = await call<DropBody>('POST', '/v1/drops', brand, openDropBody({ quantity: 5 }));
    expect(created.status).toBe(201);
    expect((await credit(fan, 1_000, 'before-stop')).status).toBe(201);

    paused = pg.pause();
    let grab: ApiResponse<OrderBody>;
    try {
      const [newDrop, list, creditDuring, balance, view] = await Promise.all([
        call('POST', '/v1/drops', brand, openDropBody({ quantity: 5 })),
        call('GET', '/v1/drops', brand),
        credit(fan, 500, 'during-stop'),
        call('GET', '/v1/wallet', tokenFor('fan', fan)),
        call<DropBody>('GET', `/v1/drops/${created.body.id}`),
      ]);
      expectUnavailable(newDrop, 'POST /v1/drops');
      expectUnavailable(list, 'GET /v1/drops');
      expectUnavailable(creditDuring, 'a credit');
      expectUnavailable(balance, 'a balance');
      // The sale runs on Redis: a drop's view and a grab do not wait on PostgreSQL.
      expect(view.status).toBe(200);
      grab = await call<OrderBody>(
        'POST',
        `/v1/drops/${created.body.id}/purchases`,
        tokenFor('fan', fan),
      );
      expect(grab.status).toBe(201);
      expect((await call('GET', '/health/live')).status).toBe(200);
    } finally {
      pg.resume(paused);
      paused = undefined;
    }
    // The wallet's answer was its own (the API would have waited 20 s for it).
    expect(readFileSync(wallet.logFile, 'utf8')).toContain('postgresql did not answer');

    // Once back: the credit retried with its reference is counted once (201 if the first
    // attempt never ran, 200 if it did), the first credit is there, the balance is exact.
    let retried: ApiResponse<{ balanceMinor: number }> | undefined;
    expect(
      await eventually(async () => {
        retried = await credit(fan, 500, 'during-stop');
        return retried.status !== 503;
      }, 30_000),
    ).toBe(true);
    expect([200, 201]).toContain(retried?.status);
    expect(retried?.body.balanceMinor).toBe(1_500);
    expect(await balanceOf(fan)).toBe(1_500);
    const brandList = await call<DropBody[]>('GET', '/v1/drops', brand);
    expect(brandList.status).toBe(200);
    expect(brandList.body.map((d) => d.id)).toContain(created.body.id);
    const after = await call<DropBody>('GET', `/v1/drops/${created.body.id}`);
    expect(after.body.remaining).toBe(4);
    const orders = await call<OrderBody[]>('GET', '/v1/orders', tokenFor('fan', fan));
    expect(orders.body.map((o) => o.id)).toEqual([grab.body.id]);
  }, 150_000);

  it('while PostgreSQL is down (kill -9 of every process): 503, not 500; served again once it is back', async () => {
    const brand = tokenFor('brand', uniqueId('brand'));
    const fan = uniqueId('fan');
    await db?.destroy().catch(() => undefined);
    db = undefined;
    pg.crash();
    try {
      expectUnavailable(await call('POST', '/v1/drops', brand, openDropBody()), 'POST /v1/drops');
      expectUnavailable(await credit(fan, 100, 'while-down'), 'a credit');
    } finally {
      pg.start();
    }
    expect(
      await eventually(
        async () => (await call('POST', '/v1/drops', brand, openDropBody())).status === 201,
        30_000,
      ),
    ).toBe(true);
    expect(
      await eventually(
        async () => [200, 201].includes((await credit(fan, 100, 'while-down')).status),
        30_000,
      ),
    ).toBe(true);
    expect(await balanceOf(fan)).toBe(100);
  }, 150_000);
});
