import { Inventory } from '@flashdrop/inventory';
import { createRedis } from '@flashdrop/persistence';
import {
  api,
  ApiResponse,
  DedicatedRedis,
  dropKeys,
  eventually,
  openDropBody,
  OrderBody,
  ServiceProcess,
  slotPort,
  tokenFor,
  uniqueId,
} from '@flashdrop/testing';
import Redis from 'ioredis';

/**
 * Crash safety of the grab: an API process of the test's own on a Redis of the test's own,
 * `kill -9` of either in the middle of a rush. Every 201 must still be a held order afterwards,
 * and held units + stock must equal the quantity (nothing oversold, nothing lost).
 */
describe('the grab survives kill -9 (dedicated Redis and API)', () => {
  // Ports chosen so that base + 10 * slot meets no other test's dedicated server in any slot.
  const redisServer = new DedicatedRedis(slotPort(6477));
  const apiPort = slotPort(4305);
  const baseUrl = `http://127.0.0.1:${apiPort}`;
  const apiProcess = new ServiceProcess('api', {
    REDIS_URL: `${redisServer.url}/0`,
    API_PORT: String(apiPort),
    GRAB_RATE_LIMIT_PER_SECOND: '0',
  });
  let redis: Redis;
  let inventory: Inventory;

  beforeAll(async () => {
    redisServer.start();
    redis = createRedis(`${redisServer.url}/0`, { maxRetriesPerRequest: 20 });
    inventory = new Inventory(redis);
    apiProcess.start();
    await apiProcess.waitForHttp(`${baseUrl}/health/live`);
  }, 60_000);

  afterAll(async () => {
    await apiProcess.stop();
    redis.disconnect();
    redisServer.stop();
  }, 30_000);

  async function newDrop(quantity: number): Promise<string> {
    const res = await api<{ id: string }>('POST', '/v1/drops', {
      token: tokenFor('brand', uniqueId('brand')),
      body: openDropBody({ quantity }),
      baseUrl,
    });
    expect(res.status).toBe(201);
    return res.body.id;
  }

  /** Grabs with `concurrency` fans in flight until `stop()`; collects the 201s. */
  function rush(dropId: string, concurrency: number) {
    const accepted: OrderBody[] = [];
    let running = true;
    let other = 0;
    const workers = Array.from({ length: concurrency }, async () => {
      while (running) {
        const fan = tokenFor('fan', uniqueId('fan'));
        const res: ApiResponse<OrderBody> | undefined = await api<OrderBody>(
          'POST',
          `/v1/drops/${dropId}/purchases`,
          { token: fan, baseUrl },
        ).catch(() => undefined);
        if (res?.status === 201) accepted.push(res.body);
        else other += 1;
        if (!res) await new Promise((r) => setTimeout(r, 20));
      }
    });
    return {
      accepted,
      refused: () => other,
      stop: async () => {
        running = false;
        await Promise.all(workers);
      },
    };
  }

  /** Every acknowledged order is held in Redis; held units + stock == quantity. */
  async function expectNothingLost(dropId: string, quantity: number, accepted: OrderBody[]) {
    for (const order of accepted) {
      const stored = await inventory.getOrder(order.id);
      expect(stored?.status).toBe('held');
    }
    const k = dropKeys(dropId);
    const holds = await redis.zrange(k.holds, 0, -1);
    const held = await Promise.all(holds.map((id) => inventory.getOrder(id)));
    const heldUnits = held.reduce((s, o) => s + (o?.quantity ?? 0), 0);
    const stock = Number(await redis.get(k.stock));
    expect(heldUnits + stock).toBe(quantity);
    expect(heldUnits).toBeGreaterThanOrEqual(accepted.length);
    expect(heldUnits).toBeLessThanOrEqual(quantity);
  }

  it('kill -9 of Redis mid-rush: every 201 survives, nothing oversold', async () => {
    const quantity = 400;
    const dropId = await newDrop(quantity);
    const load = rush(dropId, 40);
    await eventually(async () => load.accepted.length >= 50, 20_000, 5);
    redisServer.kill9();
    await new Promise((r) => setTimeout(r, 300));
    redisServer.start();
    await new Promise((r) => setTimeout(r, 500));
    await load.stop();
    console.log(
      `redis crash: ${load.accepted.length} acknowledged, ${load.refused()} refused/failed`,
    );
    expect(load.accepted.length).toBeGreaterThanOrEqual(50);
    await expectNothingLost(dropId, quantity, load.accepted);
  }, 60_000);

  it('kill -9 of the API mid-rush: every 201 survives and is readable after a restart', async () => {
    const quantity = 400;
    const dropId = await newDrop(quantity);
    const load = rush(dropId, 40);
    await eventually(async () => load.accepted.length >= 50, 20_000, 5);
    apiProcess.kill9();
    await load.stop();
    console.log(
      `api crash: ${load.accepted.length} acknowledged, ${load.refused()} refused/failed`,
    );
    await expectNothingLost(dropId, quantity, load.accepted);
    apiProcess.start();
    await apiProcess.waitForHttp(`${baseUrl}/health/live`);
    const sample = load.accepted.slice(0, 20);
    for (const order of sample) {
      const res = await api<OrderBody>('GET', `/v1/orders/${order.id}`, {
        token: tokenFor('fan', order.fanId),
        baseUrl,
      });
      expect(res).toMatchObject({ status: 200, body: { id: order.id, status: 'held' } });
    }
  }, 60_000);
});
