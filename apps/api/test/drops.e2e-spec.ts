import { Topics } from '@flashdrop/events';
import { connectRedis, RedisClient } from '@flashdrop/persistence';
import {
  api,
  createDrop,
  dropBody,
  DropBody,
  dropKeys,
  errorOf,
  eventually,
  isoIn,
  openDropBody,
  stackTopicTail,
  TailedEvent,
  testConfig,
  tokenFor,
  uniqueId,
} from '@flashdrop/testing';

/** The brand's drop routes (docs/api.md "Drops") through the running test stack. */
describe('drops (running stack)', () => {
  let redis: RedisClient;
  beforeAll(() => {
    redis = connectRedis(testConfig());
  });
  afterAll(() => redis.quit());

  const newBrand = () => tokenFor('brand', uniqueId('brand'));

  it('creates a drop with the defaults of docs/api.md', async () => {
    const brandId = uniqueId('brand');
    const res = await api<DropBody>('POST', '/v1/drops', {
      token: tokenFor('brand', brandId),
      body: dropBody(),
    });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({
      id: expect.any(String),
      brandId,
      currency: 'CNY',
      perUserLimit: 1,
      reservationRequired: true,
      holdSeconds: 600,
      phase: 'reservation_open',
      remaining: 100,
      reservations: 0,
      quantity: 100,
    });
    expect((await api('GET', `/v1/drops/${res.body.id}`)).body).toEqual(res.body);
  });

  it('lets a drop need no reservation window when reservations are not required', async () => {
    const drop = await createDrop(openDropBody());
    expect(drop).toMatchObject({ phase: 'on_sale', reservationRequired: false });
    expect(drop.reservationOpensAt).toBeUndefined();
  });

  const tooLong = (n: number) => 'x'.repeat(n);
  // One instant for both: two isoIn() calls differ by a millisecond on a busy machine.
  const sameInstant = isoIn(1000);
  it.each<[string, Record<string, unknown>, string[]]>([
    ['an empty title', { title: '' }, ['title']],
    ['a title of 201 chars', { title: tooLong(201) }, ['title']],
    ['a numeric title', { title: 5 }, ['title']],
    ['a sku with a space', { sku: 'a b' }, ['sku']],
    ['a sku of 65 chars', { sku: tooLong(65) }, ['sku']],
    ['priceMinor 0', { priceMinor: 0 }, ['priceMinor']],
    ['priceMinor above 10^12', { priceMinor: 1e12 + 1 }, ['priceMinor']],
    ['a fractional price', { priceMinor: 1.5 }, ['priceMinor']],
    ['a price as a string', { priceMinor: '100' }, ['priceMinor']],
    ['a lower-case currency', { currency: 'cny' }, ['currency']],
    ['a 4-letter currency', { currency: 'CNYY' }, ['currency']],
    ['a null currency', { currency: null }, ['currency']],
    ['quantity 0', { quantity: 0 }, ['quantity']],
    ['quantity above 10^7', { quantity: 10_000_001 }, ['quantity']],
    ['perUserLimit 0', { perUserLimit: 0 }, ['perUserLimit']],
    ['perUserLimit 101', { perUserLimit: 101 }, ['perUserLimit']],
    ['reservationRequired as a string', { reservationRequired: 'yes' }, ['reservationRequired']],
    ['a malformed time', { reservationOpensAt: 'tomorrow' }, ['reservationOpensAt']],
    ['a missing saleStartsAt', { saleStartsAt: undefined }, ['saleStartsAt']],
    ['holdSeconds 9', { holdSeconds: 9 }, ['holdSeconds']],
    ['holdSeconds 3601', { holdSeconds: 3601 }, ['holdSeconds']],
    ['an unknown field', { color: 'red' }, ['color']],
    [
      'no window although reservations are required',
      { reservationOpensAt: undefined, reservationClosesAt: undefined },
      ['reservationOpensAt', 'reservationClosesAt'],
    ],
    [
      'opens == closes',
      { reservationOpensAt: sameInstant, reservationClosesAt: sameInstant },
      ['reservationClosesAt'],
    ],
    [
      'opens after closes',
      { reservationOpensAt: isoIn(2000), reservationClosesAt: isoIn(1000) },
      ['reservationClosesAt'],
    ],
    [
      'closes after saleStartsAt',
      { reservationClosesAt: isoIn(7_200_000) },
      ['reservationClosesAt'],
    ],
    ['saleEndsAt == saleStartsAt', { saleEndsAt: isoIn(3_600_000) }, ['saleEndsAt']],
    ['saleEndsAt before saleStartsAt', { saleEndsAt: isoIn(60_000) }, ['saleEndsAt']],
  ])('refuses %s with 400 and writes nothing', async (_name, change, fields) => {
    const brand = newBrand();
    const base = { ...dropBody(), ...change };
    // Fields set to undefined are left out of the JSON: for "missing" cases.
    const res = await api('POST', '/v1/drops', { token: brand, body: base });
    expect(res.status).toBe(400);
    expect(errorOf(res)).toBe('VALIDATION_FAILED');
    const details = (res.body as { details: { field: string }[] }).details;
    expect(details.map((d) => d.field).sort()).toEqual([...fields].sort());
    expect((await api<unknown[]>('GET', '/v1/drops', { token: brand })).body).toEqual([]);
  });

  it('refuses an empty body with one detail per missing field', async () => {
    const brand = newBrand();
    const res = await api<{ details: { field: string }[] }>('POST', '/v1/drops', {
      token: brand,
      body: {},
    });
    expect(res.status).toBe(400);
    expect(res.body.details.map((d) => d.field).sort()).toEqual(
      ['priceMinor', 'quantity', 'saleStartsAt', 'sku', 'title'].sort(),
    );
    expect((await api<unknown[]>('GET', '/v1/drops', { token: brand })).body).toEqual([]);
  });

  it('refuses callers without a token (401) and fans (403)', async () => {
    expect((await api('POST', '/v1/drops', { body: dropBody() })).status).toBe(401);
    const fan = await api('POST', '/v1/drops', { token: tokenFor('fan'), body: dropBody() });
    expect(fan.status).toBe(403);
    expect(errorOf(fan)).toBe('FORBIDDEN');
    expect((await api('GET', '/v1/drops', { token: tokenFor('fan') })).status).toBe(403);
  });

  it('answers 404 for an unknown or malformed drop id', async () => {
    for (const id of ['d000000000000', 'nope', 'd3ea2fd3f02c8-1']) {
      const res = await api('GET', `/v1/drops/${id}`);
      expect(res.status).toBe(404);
      expect(errorOf(res)).toBe('NOT_FOUND');
    }
  });

  it("lists a brand's own drops only; other brands get 404 on every change", async () => {
    const owner = newBrand();
    const other = newBrand();
    const drop = await createDrop(dropBody(), owner);
    await createDrop(dropBody(), other);
    const mine = await api<DropBody[]>('GET', '/v1/drops', { token: owner });
    expect(mine.body.map((d) => d.id)).toEqual([drop.id]);
    for (const [method, path, body] of [
      ['PATCH', `/v1/drops/${drop.id}`, { title: 'stolen' }],
      ['POST', `/v1/drops/${drop.id}/pause`, undefined],
      ['POST', `/v1/drops/${drop.id}/resume`, undefined],
      ['POST', `/v1/drops/${drop.id}/cancel`, undefined],
    ] as const) {
      const res = await api(method, path, { token: other, body });
      expect(res.status).toBe(404);
    }
    expect(await api('GET', `/v1/drops/${drop.id}`)).toMatchObject({
      body: { title: 'Phone X', phase: 'reservation_open' },
    });
  });

  describe('PATCH', () => {
    const future = () =>
      dropBody({
        reservationOpensAt: isoIn(600_000),
        reservationClosesAt: isoIn(1_200_000),
        saleStartsAt: isoIn(1_200_000),
      });

    it('changes a drop before reservations open, stock included', async () => {
      const brand = newBrand();
      const drop = await createDrop(future(), brand);
      expect(drop.phase).toBe('scheduled');
      const res = await api<DropBody>('PATCH', `/v1/drops/${drop.id}`, {
        token: brand,
        body: { quantity: 250, title: 'Phone Y', saleEndsAt: isoIn(3_600_000) },
      });
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ quantity: 250, remaining: 250, title: 'Phone Y' });
      expect((await api('GET', `/v1/drops/${drop.id}`)).body).toEqual(res.body);
    });

    it('refuses a change that breaks the rules (400) and keeps the drop', async () => {
      const brand = newBrand();
      const drop = await createDrop(future(), brand);
      for (const body of [
        { saleEndsAt: isoIn(60_000) },
        { reservationClosesAt: isoIn(7_200_000) },
        { quantity: 0 },
        { owner: 'x' },
      ]) {
        const res = await api('PATCH', `/v1/drops/${drop.id}`, { token: brand, body });
        expect(res.status).toBe(400);
      }
      expect(await api('GET', `/v1/drops/${drop.id}`)).toMatchObject({ body: drop });
    });

    it('answers 409 DROP_LOCKED once reservations are open, and changes nothing', async () => {
      const brand = newBrand();
      const drop = await createDrop(dropBody(), brand);
      const res = await api('PATCH', `/v1/drops/${drop.id}`, {
        token: brand,
        body: { quantity: 5 },
      });
      expect(res.status).toBe(409);
      expect(errorOf(res)).toBe('DROP_LOCKED');
      expect((await api<DropBody>('GET', `/v1/drops/${drop.id}`)).body.remaining).toBe(100);
    });

    it('locks a drop without reservations at its sale start', async () => {
      const brand = newBrand();
      const drop = await createDrop(openDropBody(), brand);
      const res = await api('PATCH', `/v1/drops/${drop.id}`, {
        token: brand,
        body: { title: 'z' },
      });
      expect(errorOf(res)).toBe('DROP_LOCKED');
    });
  });

  describe('pause, resume, cancel', () => {
    it('pauses and resumes (owner or operator); fans may not', async () => {
      const brand = newBrand();
      const drop = await createDrop(openDropBody(), brand);
      const paused = await api<DropBody>('POST', `/v1/drops/${drop.id}/pause`, { token: brand });
      expect(paused).toMatchObject({ status: 200, body: { phase: 'paused' } });
      const resumed = await api<DropBody>('POST', `/v1/drops/${drop.id}/resume`, {
        token: tokenFor('operator'),
      });
      expect(resumed).toMatchObject({ status: 200, body: { phase: 'on_sale' } });
      const byOperator = await api('POST', `/v1/drops/${drop.id}/pause`, {
        token: tokenFor('operator'),
      });
      expect(byOperator.status).toBe(200);
      expect(
        (await api('POST', `/v1/drops/${drop.id}/resume`, { token: tokenFor('fan') })).status,
      ).toBe(403);
      expect(
        (await api('POST', `/v1/drops/d000000000000/pause`, { token: tokenFor('operator') }))
          .status,
      ).toBe(404);
    });

    it('cancels before the sale; then reservations are closed and nothing is left', async () => {
      const brand = newBrand();
      const drop = await createDrop(dropBody(), brand);
      const res = await api<DropBody>('POST', `/v1/drops/${drop.id}/cancel`, { token: brand });
      expect(res).toMatchObject({ status: 200, body: { phase: 'cancelled', remaining: 0 } });
      const reserve = await api('POST', `/v1/drops/${drop.id}/reservations`, {
        token: tokenFor('fan'),
        body: {},
      });
      expect(errorOf(reserve)).toBe('RESERVATION_CLOSED');
      const edit = await api('PATCH', `/v1/drops/${drop.id}`, {
        token: brand,
        body: { title: 'x' },
      });
      expect(errorOf(edit)).toBe('DROP_LOCKED');
    });

    it('refuses to pause a cancelled drop (409 DROP_LOCKED); only brands cancel', async () => {
      const brand = newBrand();
      const drop = await createDrop(dropBody(), brand);
      const byOperator = await api('POST', `/v1/drops/${drop.id}/cancel`, {
        token: tokenFor('operator'),
      });
      expect(byOperator.status).toBe(403);
      await api('POST', `/v1/drops/${drop.id}/cancel`, { token: brand });
      const pause = await api('POST', `/v1/drops/${drop.id}/pause`, { token: brand });
      expect(pause.status).toBe(409);
      expect(errorOf(pause)).toBe('DROP_LOCKED');
      expect((await api<DropBody>('GET', `/v1/drops/${drop.id}`)).body.phase).toBe('cancelled');
    });

    it('refuses to cancel once the sale has started (409 DROP_LOCKED)', async () => {
      const brand = newBrand();
      const drop = await createDrop(openDropBody(), brand);
      const res = await api('POST', `/v1/drops/${drop.id}/cancel`, { token: brand });
      expect(res.status).toBe(409);
      expect(errorOf(res)).toBe('DROP_LOCKED');
      expect((await api<DropBody>('GET', `/v1/drops/${drop.id}`)).body.phase).toBe('on_sale');
    });
  });

  it('re-mirrors a drop from PostgreSQL when Redis lacks it', async () => {
    const drop = await createDrop(dropBody());
    const k = dropKeys(drop.id);
    await redis.del(k.drop, k.stock);
    expect((await api('GET', `/v1/drops/${drop.id}`)).body).toEqual(drop);
  });

  it('announces each phase change once, in order, never before its time point (drop.phase_changed on the drops topic)', async () => {
    const drops = stackTopicTail(Topics.drops);
    await drops.start();
    try {
      const times = {
        reservationOpensAt: isoIn(500),
        reservationClosesAt: isoIn(3000),
        saleStartsAt: isoIn(3000),
        saleEndsAt: isoIn(5500),
      };
      const drop = await createDrop(dropBody(times));
      // The events themselves, as the relay put them on Kafka (a redelivered one, same id, once).
      const announced = () => {
        const byId = new Map<string, TailedEvent>();
        for (const e of drops.values<TailedEvent>()) {
          if (e.type === 'drop.phase_changed' && e.data.dropId === drop.id) byId.set(e.id, e);
        }
        return [...byId.values()];
      };
      const ended = await eventually(
        async () => announced().some((e) => e.data.phase === 'ended'),
        30_000,
      );
      expect(ended).toBe(true);
      // Each phase once, in order (the reservation window closes as the sale starts: no
      // reservation_closed between them). The windows are 2.5 s so that the scheduler, polling
      // every 250 ms, meets each one even on a loaded box.
      // A pass that meets the drop before its reservations open announces `scheduled` first.
      const phases = announced().map((e) => e.data.phase);
      expect(phases.slice(phases[0] === 'scheduled' ? 1 : 0)).toEqual([
        'reservation_open',
        'on_sale',
        'ended',
      ]);
      // "Not before" on the announcing script's own clock (occurredAt is its Redis TIME).
      const timePoint: Record<string, string> = {
        reservation_open: times.reservationOpensAt,
        on_sale: times.saleStartsAt,
        ended: times.saleEndsAt,
      };
      const early = announced().filter((e) => {
        const at = timePoint[String(e.data.phase)];
        return at !== undefined && Date.parse(e.occurredAt) < Date.parse(at);
      });
      expect(early.map((e) => e.data.phase)).toEqual([]);
      expect((await redis.hget(dropKeys(drop.id).drop, 'phase')) ?? '').toBe('ended');
    } finally {
      await drops.stop();
    }
  }, 60_000);
});
