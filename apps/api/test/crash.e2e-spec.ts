import { auditSales } from '@flashdrop/audit';
import { Inventory } from '@flashdrop/inventory';
import { createRedis } from '@flashdrop/persistence';
import {
  api,
  DedicatedRedis,
  dropBody,
  dropKeys,
  killMidLoad,
  openDropBody,
  phasesLine,
  OrderBody,
  RequestLoad,
  ServiceProcess,
  slotPort,
  tokenFor,
  uniqueId,
} from '@flashdrop/testing';
import Redis from 'ioredis';

/** Callers in flight during each rush: enough that a kill always meets some requests. */
const CONCURRENCY = 40;
/** Acknowledged before the kill, and after the restart, before the test goes on. */
const ACKS_BEFORE = 50;
const ACKS_AFTER = 20;

interface Reserved {
  readonly fanId: string;
  readonly reservedAt: string;
}

/**
 * Crash safety of the sale's writes: an API process of the test's own on a Redis of the test's
 * own, `kill -9` of either in the middle of a rush of grabs or of reservations. Each case shows
 * the kill fell in the middle (writes acknowledged before it, requests in flight at it, writes
 * acknowledged after the restart), then that every acknowledged write is still there, once:
 * every 201 grab a held order, held units + stock = quantity, one order and one event per
 * accepted grab; every 201 reservation stored with the reservedAt it answered, counted once.
 */
describe('acknowledged grabs and reservations survive kill -9 (dedicated Redis and API)', () => {
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

  async function newDrop(body: Record<string, unknown>): Promise<string> {
    const res = await api<{ id: string }>('POST', '/v1/drops', {
      token: tokenFor('brand', uniqueId('brand')),
      body,
      baseUrl,
    });
    expect(res.status).toBe(201);
    return res.body.id;
  }

  /** A grab per request, a new fan each time; acknowledged: the 201's order. */
  const grabs = (dropId: string) =>
    new RequestLoad<OrderBody>(async () => {
      const res = await api<OrderBody>('POST', `/v1/drops/${dropId}/purchases`, {
        token: tokenFor('fan', uniqueId('fan')),
        baseUrl,
      });
      return res.status === 201 ? res.body : undefined;
    }, CONCURRENCY);

  /** A reservation per request, a new fan each time; acknowledged: the 201's reservedAt. */
  const reservations = (dropId: string) =>
    new RequestLoad<Reserved>(async () => {
      const fanId = uniqueId('fan');
      const res = await api<Reserved>('POST', `/v1/drops/${dropId}/reservations`, {
        token: tokenFor('fan', fanId),
        body: {},
        baseUrl,
      });
      return res.status === 201 ? { fanId, reservedAt: res.body.reservedAt } : undefined;
    }, CONCURRENCY);

  /** Kills in the middle of `load` and restarts (killMidLoad: the kill must fall mid-traffic). */
  async function killMidRush<T>(
    load: RequestLoad<T>,
    kill: () => void,
    restart: () => Promise<void>,
  ): Promise<void> {
    const phases = await killMidLoad(load, kill, restart, {
      ackBefore: ACKS_BEFORE,
      ackAfter: ACKS_AFTER,
    });
    console.log(`kill -9: ${phasesLine(phases)}, ${load.failures} refused or failed`);
  }

  const restartRedis = async () => {
    await new Promise((r) => setTimeout(r, 300));
    redisServer.start();
  };
  const restartApi = async () => {
    apiProcess.start();
    await apiProcess.waitForHttp(`${baseUrl}/health/live`);
  };

  /** Every acknowledged order is held, once; units, counters and events agree. */
  async function expectNoGrabLost(dropId: string, quantity: number, accepted: OrderBody[]) {
    expect(new Set(accepted.map((o) => o.id)).size).toBe(accepted.length);
    const stored = await Promise.all(accepted.map((o) => inventory.getOrder(o.id)));
    // Ids, not the stored orders: toEqual([]) would pass an array of undefined (lost ones).
    expect(accepted.filter((o, i) => stored[i]?.status !== 'held').map((o) => o.id)).toEqual([]);
    const k = dropKeys(dropId);
    const holds = await redis.zrange(k.holds, 0, -1);
    const held = await Promise.all(holds.map((id) => inventory.getOrder(id)));
    const heldUnits = held.reduce((s, o) => s + (o?.quantity ?? 0), 0);
    // Grabs the kill cut short may have been applied without their answer: more held, never less.
    expect(heldUnits).toBeGreaterThanOrEqual(accepted.length);
    expect(heldUnits + Number(await redis.get(k.stock))).toBe(quantity);
    const events = await redis.xrange(k.events, '-', '+');
    expect(events.filter(([, f]) => f.includes('grab.accepted'))).toHaveLength(holds.length);
    // Stock, per-fan counters and orders recomputed by the audit: no unit counted twice.
    expect((await auditSales(inventory, [dropId])).breaches).toEqual([]);
  }

  it('kill -9 of Redis mid-rush: every 201 survives, nothing oversold or doubled', async () => {
    const quantity = 1000;
    const dropId = await newDrop(openDropBody({ quantity }));
    const load = grabs(dropId);
    await killMidRush(load, () => redisServer.kill9(), restartRedis);
    await expectNoGrabLost(dropId, quantity, load.acknowledged);
  }, 120_000);

  it('kill -9 of the API mid-rush: every 201 survives and is readable after a restart', async () => {
    const quantity = 1000;
    const dropId = await newDrop(openDropBody({ quantity }));
    const load = grabs(dropId);
    await killMidRush(load, () => apiProcess.kill9(), restartApi);
    await expectNoGrabLost(dropId, quantity, load.acknowledged);
    for (const order of load.acknowledgedIn('start').slice(0, 20)) {
      const res = await api<OrderBody>('GET', `/v1/orders/${order.id}`, {
        token: tokenFor('fan', order.fanId),
        baseUrl,
      });
      expect(res).toMatchObject({ status: 200, body: { id: order.id, status: 'held' } });
    }
  }, 120_000);

  /** Every acknowledged reservation is stored with the reservedAt it answered, counted once. */
  async function expectNoReservationLost(dropId: string, acknowledged: Reserved[]) {
    const view = await inventory.viewDrop(dropId);
    if (!view) throw new Error(`drop ${dropId} is gone`);
    const stored = await inventory.reservedAt(
      view.definition,
      acknowledged.map((r) => r.fanId),
    );
    const lost = acknowledged.filter((r, i) => stored[i] !== Date.parse(r.reservedAt));
    expect(lost).toEqual([]);
    const k = dropKeys(dropId);
    // Counted once each, in the script that stored it (no referrer: `resPending`; no worker
    // runs here to announce the count), so none is counted twice or lost from the count.
    const reservationsStored = await redis.hlen(k.reservations);
    expect(Number(await redis.hget(k.stats, 'resPending'))).toBe(reservationsStored);
    expect(view.reservations).toBe(reservationsStored);
    expect(reservationsStored).toBeGreaterThanOrEqual(acknowledged.length);
    // Asked again after the crash, a reserved fan gets its first answer back (200, same time).
    for (const r of acknowledged.slice(0, 10)) {
      const again = await api<Reserved>('POST', `/v1/drops/${dropId}/reservations`, {
        token: tokenFor('fan', r.fanId),
        body: {},
        baseUrl,
      });
      expect(again).toMatchObject({ status: 200, body: { reservedAt: r.reservedAt } });
    }
  }

  it('kill -9 of Redis mid-wave: every 201 reservation survives with its reservedAt', async () => {
    const dropId = await newDrop(dropBody());
    const load = reservations(dropId);
    await killMidRush(load, () => redisServer.kill9(), restartRedis);
    await expectNoReservationLost(dropId, load.acknowledged);
  }, 120_000);

  it('kill -9 of the API mid-wave: every 201 reservation survives with its reservedAt', async () => {
    const dropId = await newDrop(dropBody());
    const load = reservations(dropId);
    await killMidRush(load, () => apiProcess.kill9(), restartApi);
    await expectNoReservationLost(dropId, load.acknowledged);
  }, 120_000);
});
