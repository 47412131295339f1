import { signToken } from '@flashdrop/auth';
import { chainProblems } from '@flashdrop/fair';
import { connectRedis, RedisClient } from '@flashdrop/persistence';
import {
  api,
  apiBaseUrl,
  createDrop,
  dropBody,
  dropKeys,
  errorOf,
  eventually,
  grabVia,
  moveHoldDeadline,
  openDropBody,
  OrderBody,
  redisNow,
  setDropTimes,
  SseClient,
  testConfig,
  tokenFor,
  uniqueId,
} from '@flashdrop/testing';

interface Fan {
  id: string;
  token: string;
}
const newFan = (): Fan => {
  const id = uniqueId('fan');
  return { id, token: tokenFor('fan', id) };
};

interface Standing {
  dropId: string;
  fanId: string;
  reserved: boolean;
  waitlistPosition?: number;
  drawResult?: string;
  orders: OrderBody[];
  unitsPending: number;
  nextReleaseAt?: string;
}

interface Allocations {
  items: {
    seq: number;
    at: string;
    kind: 'grab' | 'draw' | 'backfill';
    orderId: string;
    fanId: string;
    quantity: number;
    fromOrderId?: string;
    hash: string;
  }[];
  head: string;
}

/**
 * The waitlist, a fan's standing and the allocation log through the running test stack
 * (API.md "Fair launch"): every refusal writing nothing, a released hold passing down the line,
 * /me for each standing, /me/live pushing the hold to the fan it passed to.
 */
describe('waitlist, standing and allocation log (running stack)', () => {
  let redis: RedisClient;

  beforeAll(() => {
    redis = connectRedis(testConfig());
  });
  afterAll(async () => {
    await redis.quit();
  });

  const join = (dropId: string, fan: Fan) =>
    api<{ dropId: string; fanId: string; position: number; error?: string }>(
      'POST',
      `/v1/drops/${dropId}/waitlist`,
      { token: fan.token },
    );
  const me = async (dropId: string, fan: Fan) => {
    const res = await api<Standing>('GET', `/v1/drops/${dropId}/me`, { token: fan.token });
    expect(res.status).toBe(200);
    return res.body;
  };
  const allocations = (dropId: string, after?: number) =>
    api<Allocations>(
      'GET',
      `/v1/drops/${dropId}/allocations${after === undefined ? '' : `?after=${after}`}`,
    );

  /** A first-come drop of `units` units, sold out to `units` holders. */
  async function soldOut(units: number, overrides: Record<string, unknown> = {}) {
    const drop = await createDrop(openDropBody({ quantity: units, holdSeconds: 60, ...overrides }));
    const holders = Array.from({ length: units }, newFan);
    const holds: OrderBody[] = [];
    for (const h of holders) {
      const res = await grabVia(drop.id, h.token);
      expect(res.status).toBe(201);
      holds.push(res.body);
    }
    return { drop, holders, holds };
  }

  /** What a refused join could have written: the line, the outbox, the counters. */
  async function written(dropId: string) {
    const k = dropKeys(dropId);
    const [line, events, stats] = await Promise.all([
      redis.zrange(k.waitlist, 0, -1, 'WITHSCORES'),
      redis.xlen(k.events),
      redis.hgetall(k.stats),
    ]);
    return { line, events, stats };
  }

  /**
   * `written` once the stack's worker is done with the drop (a phase change to announce,
   * reservations to count: it writes those on its own), so a difference after a refusal is the
   * refusal's.
   */
  async function settled(dropId: string) {
    let last = JSON.stringify(await written(dropId));
    for (let i = 0; i < 20; i++) {
      await new Promise((r) => setTimeout(r, 300));
      const now = JSON.stringify(await written(dropId));
      if (now === last) break;
      last = now;
    }
    return written(dropId);
  }

  describe('POST /v1/drops/:id/waitlist', () => {
    it('queues fans on a sold-out drop: 201, then 200 with the same place', async () => {
      const { drop } = await soldOut(1);
      const [a, b] = [newFan(), newFan()];
      const first = await join(drop.id, a);
      expect(first.status).toBe(201);
      expect(first.body).toEqual({ dropId: drop.id, fanId: a.id, position: 1 });
      expect((await join(drop.id, b)).body.position).toBe(2);
      const again = await join(drop.id, a);
      expect(again.status).toBe(200);
      expect(again.body).toEqual(first.body);
    });

    it('refuses, writing nothing: every code of the contract', async () => {
      const fan = newFan();
      const onSale = await createDrop(openDropBody({ quantity: 10 }));
      const notStarted = await createDrop(
        openDropBody({ saleStartsAt: new Date(Date.now() + 3_600_000).toISOString() }),
      );
      const reservedOnly = await createDrop(dropBody({ quantity: 1 }));
      const holder = newFan();
      await api('POST', `/v1/drops/${reservedOnly.id}/reservations`, {
        token: holder.token,
        body: {},
      });
      const now = (await redisNow(redis)) + 1;
      await setDropTimes(redis, reservedOnly.id, { reservationClosesAt: now, saleStartsAt: now });
      await eventually(async () => (await grabVia(reservedOnly.id, holder.token)).status === 201);
      const ended = (await soldOut(1)).drop;
      await setDropTimes(redis, ended.id, { saleEndsAt: (await redisNow(redis)) - 1 });
      const draw = await createDrop(dropBody({ allocation: 'draw' }));
      const cases: [string, number, string][] = [
        [onSale.id, 409, 'NOT_SOLD_OUT'],
        [notStarted.id, 409, 'NOT_SOLD_OUT'],
        [reservedOnly.id, 403, 'NOT_RESERVED'],
        [ended.id, 409, 'SALE_ENDED'],
        [draw.id, 409, 'DRAW_ONLY'],
        ['d000000000000', 404, 'NOT_FOUND'],
        ['not-a-drop', 404, 'NOT_FOUND'],
      ];
      for (const [dropId, status, code] of cases) {
        const before = await settled(dropId);
        const res = await join(dropId, fan);
        expect([dropId, res.status, errorOf(res)]).toEqual([dropId, status, code]);
        expect(await written(dropId)).toEqual(before);
      }
      const { drop } = await soldOut(1);
      const before = await settled(drop.id);
      expect((await api('POST', `/v1/drops/${drop.id}/waitlist`)).status).toBe(401);
      const brand = await api('POST', `/v1/drops/${drop.id}/waitlist`, {
        token: tokenFor('brand'),
      });
      expect([brand.status, errorOf(brand)]).toEqual([403, 'FORBIDDEN']);
      expect(await written(drop.id)).toEqual(before);
    });

    it('grabs on a draw drop answer 409 DRAW_ONLY, holding nothing', async () => {
      const draw = await createDrop(dropBody({ allocation: 'draw', quantity: 5 }));
      const res = await grabVia(draw.id, newFan().token);
      expect([res.status, errorOf(res)]).toEqual([409, 'DRAW_ONLY']);
      expect(Number(await redis.get(dropKeys(draw.id).stock))).toBe(5);
    });

    it('a draw needs reservations: 400 on allocation, nothing created', async () => {
      const res = await api<{ details: { field: string }[] }>('POST', '/v1/drops', {
        token: tokenFor('brand', uniqueId('brand')),
        body: openDropBody({ allocation: 'draw' }),
      });
      expect(res.status).toBe(400);
      expect(res.body.details.map((d) => d.field)).toEqual(['allocation']);
      const bad = await api('POST', '/v1/drops', {
        token: tokenFor('brand'),
        body: dropBody({ allocation: 'lottery' }),
      });
      expect(bad.status).toBe(400);
    });
  });

  describe('a released hold passes to the next fan in line', () => {
    it('a cancel becomes a 1-unit hold of the first fan, with a full holdSeconds', async () => {
      const { drop, holders, holds } = await soldOut(2, { holdSeconds: 90 });
      const [w1, w2] = [newFan(), newFan()];
      await join(drop.id, w1);
      await join(drop.id, w2);
      const cancel = await api('POST', `/v1/orders/${holds[0].id}/cancel`, {
        token: holders[0].token,
      });
      expect(cancel.status).toBe(200);
      const s1 = await me(drop.id, w1);
      expect(s1.waitlistPosition).toBeUndefined();
      expect(s1.orders).toHaveLength(1);
      const [order] = s1.orders;
      expect(order).toMatchObject({ fanId: w1.id, quantity: 1, status: 'held' });
      expect(Date.parse(order.expiresAt) - Date.parse(order.createdAt as string)).toBe(90_000);
      expect((await me(drop.id, w2)).waitlistPosition).toBe(1);
      // The fan reads and may pay it like any order.
      const read = await api<OrderBody>('GET', `/v1/orders/${order.id}`, { token: w1.token });
      expect(read.body).toMatchObject({ id: order.id, status: 'held' });
      expect((await api('GET', `/v1/drops/${drop.id}`)).body).toMatchObject({ remaining: 0 });
    });

    it('an expiry passes down too; with nobody left the unit goes back to stock', async () => {
      const { drop, holds } = await soldOut(2);
      const w1 = newFan();
      await join(drop.id, w1);
      const now = await redisNow(redis);
      await moveHoldDeadline(redis, holds[0].id, now - 1);
      await moveHoldDeadline(redis, holds[1].id, now - 1);
      expect(
        await eventually(
          async () =>
            (await api<{ remaining: number }>('GET', `/v1/drops/${drop.id}`)).body.remaining === 1,
        ),
      ).toBe(true);
      expect((await me(drop.id, w1)).orders.map((o) => o.status)).toEqual(['held']);
    });
  });

  describe('GET /v1/drops/:id/me', () => {
    it('answers each standing of a first-come drop', async () => {
      const { drop, holders, holds } = await soldOut(2, { perUserLimit: 1 });
      const stranger = newFan();
      const s0 = await me(drop.id, stranger);
      expect(s0).toEqual({
        dropId: drop.id,
        fanId: stranger.id,
        reserved: false,
        orders: [],
        unitsPending: 2,
        nextReleaseAt: holds.map((h) => h.expiresAt).sort()[0],
      });
      const holder = await me(drop.id, holders[1]);
      expect(holder.orders.map((o) => o.id)).toEqual([holds[1].id]);
      const w = newFan();
      await join(drop.id, w);
      expect(await me(drop.id, w)).toMatchObject({ waitlistPosition: 1, orders: [] });
      await setDropTimes(redis, drop.id, { saleEndsAt: (await redisNow(redis)) - 1 });
      const after = await me(drop.id, w);
      expect(after.unitsPending).toBe(0);
      expect(after.nextReleaseAt).toBeUndefined();
    });

    it('a reserved fan shows reserved; unknown drop 404; brand 403; no token 401', async () => {
      const drop = await createDrop(dropBody());
      const fan = newFan();
      await api('POST', `/v1/drops/${drop.id}/reservations`, { token: fan.token, body: {} });
      expect(await me(drop.id, fan)).toMatchObject({ reserved: true, orders: [], unitsPending: 0 });
      expect((await api('GET', '/v1/drops/d000000000000/me', { token: fan.token })).status).toBe(
        404,
      );
      expect(
        (await api('GET', `/v1/drops/${drop.id}/me`, { token: tokenFor('brand') })).status,
      ).toBe(403);
      expect((await api('GET', `/v1/drops/${drop.id}/me`)).status).toBe(401);
    });
  });

  describe('GET /v1/drops/:id/me/live', () => {
    it('streams the standing at once, and the hold that passes down to the fan', async () => {
      const { drop, holders, holds } = await soldOut(1);
      const w = newFan();
      await join(drop.id, w);
      const live = await SseClient.open<Standing>(
        `${apiBaseUrl()}/v1/drops/${drop.id}/me/live?access_token=${w.token}`,
      );
      try {
        await live.waitFor((s) => s.waitlistPosition === 1);
        await api('POST', `/v1/orders/${holds[0].id}/cancel`, { token: holders[0].token });
        await live.waitFor((s) => s.orders.length === 1 && s.orders[0].status === 'held');
        expect(live.last!.waitlistPosition).toBeUndefined();
      } finally {
        live.close();
      }
    });

    it('refuses before streaming: unknown drop 404, no token 401', async () => {
      const fan = newFan();
      const res = await fetch(
        `${apiBaseUrl()}/v1/drops/d000000000000/me/live?access_token=${fan.token}`,
      );
      expect(res.status).toBe(404);
      expect((await fetch(`${apiBaseUrl()}/v1/drops/d000000000000/me/live`)).status).toBe(401);
    });

    it('ends the stream with `expired` when the token expires (a reconnect needs a valid one)', async () => {
      const drop = await createDrop(openDropBody());
      const shortLived = signToken(
        testConfig().JWT_SECRET,
        { sub: uniqueId('fan'), role: 'fan' },
        3,
      );
      const res = await fetch(
        `${apiBaseUrl()}/v1/drops/${drop.id}/me/live?access_token=${shortLived}`,
      );
      expect(res.status).toBe(200);
      const text = await res.text(); // resolves only when the server ends the stream
      expect(text).toContain('data: {'); // the standing came first
      expect(text).toMatch(/event: expired\ndata: \{"error":"UNAUTHENTICATED"/);
    }, 30_000);

    it('caps the streams one fan may hold open (429)', async () => {
      const drop = await createDrop(openDropBody());
      const fan = newFan();
      const url = `${apiBaseUrl()}/v1/drops/${drop.id}/me/live?access_token=${fan.token}`;
      const open = [];
      for (let i = 0; i < testConfig().STANDING_STREAMS_PER_FAN; i++) {
        open.push(await SseClient.open<Standing>(url));
      }
      try {
        const res = await fetch(url);
        expect(res.status).toBe(429);
        expect(res.headers.get('retry-after')).toBe('5');
      } finally {
        for (const c of open) c.close();
      }
    });
  });

  describe('GET /v1/drops/:id/allocations', () => {
    it('logs every unit handed out, grabs and backfills, in a chain anyone can check', async () => {
      const { drop, holders, holds } = await soldOut(3);
      const w = newFan();
      await join(drop.id, w);
      await api('POST', `/v1/orders/${holds[1].id}/cancel`, { token: holders[1].token });
      let log: Allocations | undefined;
      expect(
        await eventually(async () => {
          log = (await allocations(drop.id)).body;
          return log.items.length === 4;
        }),
      ).toBe(true);
      expect(log!.items.map((e) => [e.seq, e.kind, e.fanId])).toEqual([
        [1, 'grab', holders[0].id],
        [2, 'grab', holders[1].id],
        [3, 'grab', holders[2].id],
        [4, 'backfill', w.id],
      ]);
      expect(log!.items[3].fromOrderId).toBe(holds[1].id);
      expect(chainProblems(log!.items)).toEqual([]);
      expect(log!.head).toBe(log!.items[3].hash);
      const page = (await allocations(drop.id, 2)).body;
      expect(page.items.map((e) => e.seq)).toEqual([3, 4]);
      expect(page.head).toBe(log!.head);
    });

    it('an empty log has the zero head; bad `after` 400; unknown drop 404', async () => {
      const drop = await createDrop(openDropBody());
      expect((await allocations(drop.id)).body).toEqual({ items: [], head: '0'.repeat(64) });
      for (const after of ['-1', 'x', '1.5']) {
        const res = await api('GET', `/v1/drops/${drop.id}/allocations?after=${after}`);
        expect([after, res.status]).toEqual([after, 400]);
      }
      expect((await allocations('d000000000000')).status).toBe(404);
    });
  });
});
