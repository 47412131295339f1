import { auditSales } from '@flashdrop/audit';
import { Inventory } from '@flashdrop/inventory';
import { createRedis } from '@flashdrop/persistence';
import {
  api,
  DedicatedRedis,
  dropBody,
  dropKeys,
  eventually,
  killMidLoad,
  openDropBody,
  OrderBody,
  phasesLine,
  RequestLoad,
  ServiceProcess,
  slotPort,
  tokenFor,
  uniqueId,
} from '@flashdrop/testing';
import Redis from 'ioredis';

interface BucketedDrop {
  id: string;
  stockBuckets: number;
  remaining: number;
  phase: string;
}

/** A script that keeps Redis busy for ARGV[1] ms (by its own clock), writing nothing. */
const SPIN = `local t = redis.call('TIME')
local from = t[1] * 1000 + math.floor(t[2] / 1000)
repeat t = redis.call('TIME') until t[1] * 1000 + math.floor(t[2] / 1000) - from >= tonumber(ARGV[1])
return 1`;

const errorOf = (res: { body: unknown }) => (res.body as { error?: string }).error;

/** The create body's stockBuckets: accepted in range, refused with 400 and nothing written. */
describe('stockBuckets on POST /v1/drops (test stack)', () => {
  const newBrand = () => tokenFor('brand', uniqueId('brand'));

  it('creates a drop split into 4 buckets and shows it', async () => {
    const brand = newBrand();
    const res = await api<BucketedDrop>('POST', '/v1/drops', {
      token: brand,
      body: openDropBody({ stockBuckets: 4 }),
    });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ stockBuckets: 4, remaining: 100, phase: 'on_sale' });
    const got = await api<BucketedDrop>('GET', `/v1/drops/${res.body.id}`);
    expect(got.body.stockBuckets).toBe(4);
    // Left out, the drop has one: today's one-script grab.
    const plain = await api<BucketedDrop>('POST', '/v1/drops', { token: brand, body: dropBody() });
    expect(plain.body.stockBuckets).toBe(1);
  });

  it.each([
    ['with allocation draw', { allocation: 'draw', stockBuckets: 2 }],
    ['0', { stockBuckets: 0 }],
    ['65 (over 64)', { stockBuckets: 65 }],
    ['a fraction', { stockBuckets: 2.5 }],
    ['a string', { stockBuckets: '4' }],
  ])('refuses stockBuckets %s with 400 and writes nothing', async (_name, change) => {
    const brand = newBrand();
    const res = await api('POST', '/v1/drops', { token: brand, body: dropBody(change) });
    expect(res.status).toBe(400);
    expect(errorOf(res)).toBe('VALIDATION_FAILED');
    const details = (res.body as { details: { field: string }[] }).details;
    expect(details.map((d) => d.field)).toEqual(['stockBuckets']);
    expect((await api<unknown[]>('GET', '/v1/drops', { token: brand })).body).toEqual([]);
  });

  it('refuses a PATCH to a draw on a bucketed drop, and stockBuckets in a PATCH, changing nothing', async () => {
    const brand = newBrand();
    const created = await api<BucketedDrop>('POST', '/v1/drops', {
      token: brand,
      body: dropBody({ stockBuckets: 3 }),
    });
    const before = await api('GET', `/v1/drops/${created.body.id}`);
    const toDraw = await api('PATCH', `/v1/drops/${created.body.id}`, {
      token: brand,
      body: { allocation: 'draw' },
    });
    expect(toDraw.status).toBe(400);
    expect(errorOf(toDraw)).toBe('VALIDATION_FAILED');
    const resplit = await api('PATCH', `/v1/drops/${created.body.id}`, {
      token: brand,
      body: { stockBuckets: 1 },
    });
    expect(resplit.status).toBe(400);
    expect((await api('GET', `/v1/drops/${created.body.id}`)).body).toEqual(before.body);
  });
});

/**
 * kill -9 of an API process between the steps of bucketed grabs: its own API on a Redis of the
 * test's own (the slot's PostgreSQL for the drop). What the kill left in transit (tokens taken,
 * the hold made or not, never settled) is settled by the sweep; then every 201 is a held order,
 * held units + stock = quantity, and the rest of the stock still sells, to the last unit.
 */
describe('a bucketed grab cut by kill -9 of the API (dedicated Redis and API)', () => {
  const redisServer = new DedicatedRedis(slotPort(6650));
  const apiPort = slotPort(4400);
  const baseUrl = `http://127.0.0.1:${apiPort}`;
  const apiProcess = new ServiceProcess('api', {
    REDIS_URL: `${redisServer.url}/0`,
    API_PORT: String(apiPort),
    GRAB_RATE_LIMIT_PER_SECOND: '0',
  });
  let redis: Redis;
  let stall: Redis;
  let inventory: Inventory;

  beforeAll(async () => {
    redisServer.start();
    redis = createRedis(`${redisServer.url}/0`, { maxRetriesPerRequest: 20 });
    stall = createRedis(`${redisServer.url}/0`, { maxRetriesPerRequest: 20 });
    inventory = new Inventory(redis);
    apiProcess.start();
    await apiProcess.waitForHttp(`${baseUrl}/health/live`);
  }, 60_000);

  afterAll(async () => {
    await apiProcess.stop();
    redis.disconnect();
    stall.disconnect();
    redisServer.stop();
  }, 30_000);

  const transit = async (dropId: string) =>
    (await inventory.buckets.tokensOf(dropId, 4)).inTransit.reduce((a, b) => a + b, 0);

  it('leaves nothing oversold and every stranded token settled', async () => {
    const quantity = 400;
    const created = await api<BucketedDrop>('POST', '/v1/drops', {
      token: tokenFor('brand', uniqueId('brand')),
      body: openDropBody({ quantity, perUserLimit: 2, stockBuckets: 4 }),
      baseUrl,
    });
    expect(created.status).toBe(201);
    const dropId = created.body.id;
    const load = new RequestLoad<OrderBody>(async () => {
      const res = await api<OrderBody>('POST', `/v1/drops/${dropId}/purchases`, {
        token: tokenFor('fan', uniqueId('fan')),
        baseUrl,
      });
      return res.status === 201 ? res.body : undefined;
    }, 60);
    let stranded = 0;
    const phases = await killMidLoad(
      load,
      async () => {
        // Redis busy for 300 ms (one script that spins on TIME): the API's grabs in flight
        // pile up between their steps, waiting for a reply; the kill falls on them there.
        // What they had sent runs after the pause, what they would have sent next never does.
        const pause = stall.eval(SPIN, 0, 300);
        await new Promise((r) => setTimeout(r, 100));
        apiProcess.kill9();
        await pause;
        stranded = await transit(dropId);
      },
      async () => {
        apiProcess.start();
        await apiProcess.waitForHttp(`${baseUrl}/health/live`);
      },
      { ackBefore: 50, ackAfter: 20 },
    );
    console.log(`kill -9 of a bucketed rush: ${phasesLine(phases)}, ${stranded} units in transit`);
    expect(stranded).toBeGreaterThan(0);

    // The sweep, as the worker runs it, with the grace cut to nothing (no grab is in flight).
    // Each stranded grab settled: spent if its hold was made, returned if not; so no token
    // had to be issued afresh (that would mean a returned one was lost).
    const sweep = await inventory.buckets.sweep(dropId, 4, 0);
    expect(sweep.spent + sweep.returned).toBeGreaterThan(0);
    expect(sweep.issued).toBe(0);
    expect(await transit(dropId)).toBe(0);

    const k = dropKeys(dropId);
    const accepted = load.acknowledged;
    const stored = await Promise.all(accepted.map((o) => inventory.getOrder(o.id)));
    expect(accepted.filter((o, i) => stored[i]?.status !== 'held').map((o) => o.id)).toEqual([]);
    const holds = await redis.zrange(k.holds, 0, -1);
    const held = await Promise.all(holds.map((id) => inventory.getOrder(id)));
    const heldUnits = held.reduce((s, o) => s + (o?.quantity ?? 0), 0);
    expect(heldUnits + Number(await redis.get(k.stock))).toBe(quantity);
    expect((await auditSales(inventory, [dropId])).breaches).toEqual([]);
    const { tokens } = await inventory.buckets.tokensOf(dropId, 4);
    // Every unit still in stock has a token: nothing the kill stranded is unsellable.
    expect(tokens.reduce((a, b) => a + b, 0)).toBeGreaterThanOrEqual(
      Number(await redis.get(k.stock)),
    );

    // The rest sells, to the last unit and not one more.
    const rest = await Promise.all(
      Array.from({ length: quantity }, () =>
        api('POST', `/v1/drops/${dropId}/purchases`, {
          token: tokenFor('fan', uniqueId('fan')),
          baseUrl,
        }),
      ),
    );
    expect(rest.every((r) => r.status === 201 || errorOf(r) === 'SOLD_OUT')).toBe(true);
    await inventory.buckets.sweep(dropId, 4, 0);
    const finalHolds = await redis.zrange(k.holds, 0, -1);
    const finalOrders = await Promise.all(finalHolds.map((id) => inventory.getOrder(id)));
    expect(finalOrders.reduce((s, o) => s + (o?.quantity ?? 0), 0)).toBe(quantity);
    expect(await redis.get(k.stock)).toBe('0');
    expect(
      await eventually(
        async () =>
          (await api<BucketedDrop>('GET', `/v1/drops/${dropId}`, { baseUrl })).body.phase ===
          'sold_out',
      ),
    ).toBe(true);
  }, 180_000);
});
