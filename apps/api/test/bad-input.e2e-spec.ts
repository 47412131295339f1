import { connectRedis, RedisClient } from '@flashdrop/persistence';
import {
  api,
  createDrop,
  dropBody,
  DropBody,
  dropKeys,
  errorOf,
  getDrop,
  grabVia,
  isoIn,
  openDropBody,
  testConfig,
  tokenFor,
  uniqueId,
} from '@flashdrop/testing';

/**
 * Bad input that used to get through or answer 500, through the running stack. Every refusal
 * is 400 VALIDATION_FAILED, and each case also reads what the request could have written.
 */
describe('bad input is refused with a 400 and writes nothing', () => {
  let redis: RedisClient;
  beforeAll(() => {
    redis = connectRedis(testConfig());
  });
  afterAll(() => redis.quit());

  const newBrand = () => {
    const id = uniqueId('brand');
    return { id, token: tokenFor('brand', id) };
  };
  const ownDrops = async (token: string) =>
    (await api<DropBody[]>('GET', '/v1/drops', { token })).body;

  describe('time fields take RFC 3339 only (a full date-time with Z or an offset)', () => {
    const refused: [string, string][] = [
      ['an ISO week date', '2030-W01'],
      ['a week date with a day', '2030-W01-1'],
      ['an ordinal date', '2030-001'],
      ['a date alone', '2030-01-01'],
      ['no zone', '2030-01-01T12:00'],
      ['no zone, with seconds', '2030-01-01T12:00:00'],
      ['a space for the T', '2030-01-01 12:00:00Z'],
      ['basic format', '20300101T120000Z'],
      ['February 31st', '2030-02-31T12:00:00Z'],
      ['hour 24', '2030-01-01T24:00:00Z'],
      ['an offset of +24:00', '2030-01-01T12:00:00+24:00'],
      ['an offset without a colon', '2030-01-01T12:00:00+0800'],
      ['year 1969', '1969-12-31T23:59:59Z'],
      ['a five-digit year', '+10000-01-01T00:00:00Z'],
      ['an epoch number as a string', '1893499200000'],
      ['a leap second', '2030-06-30T23:59:60Z'],
    ];

    it.each(refused)('POST /v1/drops refuses %s (%s)', async (_what, time) => {
      const brand = newBrand();
      const res = await api('POST', '/v1/drops', {
        token: brand.token,
        body: dropBody({ saleStartsAt: time, reservationClosesAt: isoIn(60_000) }),
      });
      expect(res.status).toBe(400);
      expect(res.body).toMatchObject({
        error: 'VALIDATION_FAILED',
        details: [{ field: 'saleStartsAt' }],
      });
      expect(await ownDrops(brand.token)).toEqual([]);
    });

    it.each(refused)('PATCH refuses %s (%s); the drop stays as it was', async (_what, time) => {
      const brand = newBrand();
      const drop = await createDrop(
        dropBody({
          reservationOpensAt: isoIn(3_600_000),
          reservationClosesAt: isoIn(7_200_000),
          saleStartsAt: isoIn(7_200_000),
        }),
        brand.token,
      );
      // `phase` is the scheduler's (sync_phase), written beside whatever a request does.
      const definition = async () => {
        const { phase: _phase, ...fields } = await redis.hgetall(dropKeys(drop.id).drop);
        return fields;
      };
      const mirrored = await definition();
      const res = await api('PATCH', `/v1/drops/${drop.id}`, {
        token: brand.token,
        body: { saleStartsAt: time },
      });
      expect(res.status).toBe(400);
      expect(errorOf(res)).toBe('VALIDATION_FAILED');
      expect(await getDrop(drop.id)).toEqual(drop);
      expect(await definition()).toEqual(mirrored);
      expect((await api('GET', '/v1/drops', { token: brand.token })).status).toBe(200);
    });

    it.each([
      ['Z', '2031-03-04T05:06:07Z', '2031-03-04T05:06:07.000Z'],
      ['fractions of a second', '2031-03-04T05:06:07.25Z', '2031-03-04T05:06:07.250Z'],
      ['an offset', '2031-03-04T13:06:07+08:00', '2031-03-04T05:06:07.000Z'],
      ['a negative offset', '2031-03-04T00:06:07-05:00', '2031-03-04T05:06:07.000Z'],
      ['lower-case t and z', '2031-03-04t05:06:07z', '2031-03-04T05:06:07.000Z'],
    ])('accepts %s and answers in UTC', async (_what, time, utc) => {
      const drop = await createDrop(openDropBody({ saleStartsAt: time }));
      expect(drop.saleStartsAt).toBe(utc);
    });
  });

  describe('names every object inherits are unknown fields, not declared ones', () => {
    const inherited = ['toString', 'constructor', 'hasOwnProperty', 'valueOf', 'isPrototypeOf'];

    it.each(inherited)('the grab refuses {"%s": 1} and holds nothing', async (name) => {
      const drop = await createDrop(openDropBody());
      const fan = tokenFor('fan', uniqueId('fan'));
      const res = await grabVia(drop.id, fan, { [name]: 1 });
      expect(res.status).toBe(400);
      expect(res.body).toMatchObject({ error: 'VALIDATION_FAILED', details: [{ field: name }] });
      expect((await getDrop(drop.id)).remaining).toBe(100);
      expect(await redis.hlen(dropKeys(drop.id).fans)).toBe(0);
    });

    it.each(inherited)('a reservation refuses {"%s": 1} and reserves nothing', async (name) => {
      const drop = await createDrop(dropBody());
      const fan = tokenFor('fan', uniqueId('fan'));
      const res = await api('POST', `/v1/drops/${drop.id}/reservations`, {
        token: fan,
        body: { [name]: 1 },
      });
      expect(res.status).toBe(400);
      expect(errorOf(res)).toBe('VALIDATION_FAILED');
      expect((await getDrop(drop.id)).reservations).toBe(0);
    });

    it.each(inherited)('a share refuses {"%s": 1} beside its channel', async (name) => {
      const drop = await createDrop(dropBody());
      const fan = tokenFor('fan', uniqueId('fan'));
      const res = await api('POST', `/v1/drops/${drop.id}/shares`, {
        token: fan,
        body: { channel: 'weibo', [name]: 1 },
      });
      expect(res.status).toBe(400);
      expect(await redis.hget(dropKeys(drop.id).stats, 'shares')).toBeNull();
    });

    it.each(inherited)('a drop body refuses "%s" beside valid fields', async (name) => {
      const brand = newBrand();
      const res = await api('POST', '/v1/drops', {
        token: brand.token,
        body: { ...dropBody(), [name]: 1 },
      });
      expect(res.status).toBe(400);
      expect(await ownDrops(brand.token)).toEqual([]);
    });

    it.each(inherited)('a credit refuses "%s" beside valid fields', async (name) => {
      const fanId = uniqueId('fan');
      const res = await api('POST', `/v1/wallets/${fanId}/credits`, {
        token: tokenFor('operator'),
        body: { amountMinor: 100, reference: uniqueId('ref'), [name]: 1 },
      });
      expect(res.status).toBe(400);
      const wallet = await api<{ balanceMinor: number }>('GET', '/v1/wallet', {
        token: tokenFor('fan', fanId),
      });
      expect(wallet.body.balanceMinor).toBe(0);
    });

    it('refuses __proto__ in a body (the parser) and holds nothing', async () => {
      const drop = await createDrop(openDropBody());
      const fan = tokenFor('fan', uniqueId('fan'));
      const res = await api('POST', `/v1/drops/${drop.id}/purchases`, {
        token: fan,
        rawBody: '{"__proto__": {"quantity": 1}}',
      });
      expect(res.status).toBe(400);
      expect((await getDrop(drop.id)).remaining).toBe(100);
    });
  });

  describe('numbers past what is counted exactly', () => {
    it('refuses a drop whose priceMinor x quantity passes 2^53 - 1', async () => {
      const brand = newBrand();
      const res = await api('POST', '/v1/drops', {
        token: brand.token,
        body: openDropBody({ priceMinor: 1e12, quantity: 10_000_000 }),
      });
      expect(res.status).toBe(400);
      expect(res.body).toMatchObject({
        error: 'VALIDATION_FAILED',
        details: [{ field: 'quantity' }],
      });
      expect(await ownDrops(brand.token)).toEqual([]);
    });

    it('accepts the largest drop counted exactly', async () => {
      const drop = await createDrop(
        openDropBody({ priceMinor: 900_719_925, quantity: 10_000_000 }),
      );
      expect(drop.quantity).toBe(10_000_000);
    });

    it('refuses a PATCH that takes priceMinor x quantity past 2^53 - 1', async () => {
      const brand = newBrand();
      const drop = await createDrop(
        dropBody({
          priceMinor: 1e12,
          reservationOpensAt: isoIn(3_600_000),
          reservationClosesAt: isoIn(7_200_000),
          saleStartsAt: isoIn(7_200_000),
        }),
        brand.token,
      );
      const res = await api('PATCH', `/v1/drops/${drop.id}`, {
        token: brand.token,
        body: { quantity: 10_000_000 },
      });
      expect(res.status).toBe(400);
      expect(await getDrop(drop.id)).toEqual(drop);
    });

    it('a wallet cursor that passes the format but overflows bigint: 400', async () => {
      const fan = tokenFor('fan', uniqueId('fan'));
      for (const id of ['9223372036854775808', '9999999999999999999']) {
        const cursor = Buffer.from(`e:${id}`).toString('base64url');
        const res = await api('GET', `/v1/wallet/transactions?cursor=${cursor}`, { token: fan });
        expect(res.status).toBe(400);
        expect(res.body).toMatchObject({
          error: 'VALIDATION_FAILED',
          details: [{ field: 'cursor' }],
        });
      }
      const largest = Buffer.from('e:9223372036854775807').toString('base64url');
      expect(
        (await api('GET', `/v1/wallet/transactions?cursor=${largest}`, { token: fan })).status,
      ).toBe(200);
    });
  });
});
