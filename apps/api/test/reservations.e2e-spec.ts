import {
  api,
  createDrop,
  dropBody,
  errorOf,
  getDrop,
  isoIn,
  tokenFor,
  uniqueId,
} from '@flashdrop/testing';

/** Reservations and shares (docs/api.md "Fans") through the running test stack. */
describe('reservations and shares (running stack)', () => {
  const reserve = (dropId: string, token: string, body: unknown = {}) =>
    api<{ dropId: string; fanId: string; reservedAt: string }>(
      'POST',
      `/v1/drops/${dropId}/reservations`,
      { token, body },
    );

  it('reserves once: 201, then 200 with the same body', async () => {
    const drop = await createDrop(dropBody());
    const fanId = uniqueId('fan');
    const fan = tokenFor('fan', fanId);
    const first = await reserve(drop.id, fan, { referrerId: 'fan-referrer' });
    expect(first.status).toBe(201);
    expect(first.body).toEqual({ dropId: drop.id, fanId, reservedAt: expect.any(String) });
    const again = await reserve(drop.id, fan);
    expect(again.status).toBe(200);
    expect(again.body).toEqual(first.body);
    expect((await getDrop(drop.id)).reservations).toBe(1);
  });

  it('takes concurrent reservations from many fans, each counted once', async () => {
    const drop = await createDrop(dropBody());
    const fans = Array.from({ length: 200 }, () => tokenFor('fan', uniqueId('fan')));
    const results = await Promise.all([...fans, ...fans].map((t) => reserve(drop.id, t)));
    expect(results.filter((r) => r.status === 201)).toHaveLength(200);
    expect(results.filter((r) => r.status === 200)).toHaveLength(200);
    expect((await getDrop(drop.id)).reservations).toBe(200);
  }, 30_000);

  it('answers 409 RESERVATION_NOT_OPEN before the window and RESERVATION_CLOSED after', async () => {
    const early = await createDrop(
      dropBody({
        reservationOpensAt: isoIn(600_000),
        reservationClosesAt: isoIn(1_200_000),
        saleStartsAt: isoIn(1_200_000),
      }),
    );
    const fan = tokenFor('fan');
    const notOpen = await reserve(early.id, fan);
    expect(notOpen.status).toBe(409);
    expect(errorOf(notOpen)).toBe('RESERVATION_NOT_OPEN');
    const late = await createDrop(
      dropBody({
        reservationOpensAt: isoIn(-600_000),
        reservationClosesAt: isoIn(-300_000),
        saleStartsAt: isoIn(600_000),
      }),
    );
    const closed = await reserve(late.id, fan);
    expect(closed.status).toBe(409);
    expect(errorOf(closed)).toBe('RESERVATION_CLOSED');
    expect((await getDrop(early.id)).reservations).toBe(0);
    expect((await getDrop(late.id)).reservations).toBe(0);
  });

  it.each([
    ['a numeric referrerId', { referrerId: 5 }],
    ['an empty referrerId', { referrerId: '' }],
    ['an unknown field', { seat: 1 }],
  ])('refuses %s with 400 and reserves nothing', async (_n, body) => {
    const drop = await createDrop(dropBody());
    const res = await reserve(drop.id, tokenFor('fan'), body);
    expect(res.status).toBe(400);
    expect(errorOf(res)).toBe('VALIDATION_FAILED');
    expect((await getDrop(drop.id)).reservations).toBe(0);
  });

  it('answers 404 for an unknown drop, 401 without a token, 403 for a brand', async () => {
    expect((await reserve('d000000000000', tokenFor('fan'))).status).toBe(404);
    expect((await reserve('garbage', tokenFor('fan'))).status).toBe(404);
    const drop = await createDrop(dropBody());
    expect((await api('POST', `/v1/drops/${drop.id}/reservations`, { body: {} })).status).toBe(401);
    expect((await reserve(drop.id, tokenFor('brand'))).status).toBe(403);
    expect((await getDrop(drop.id)).reservations).toBe(0);
  });

  describe('shares', () => {
    const share = (dropId: string, token: string, body: unknown) =>
      api('POST', `/v1/drops/${dropId}/shares`, { token, body });

    it('accepts a share with 202', async () => {
      const drop = await createDrop(dropBody());
      const fanId = uniqueId('fan');
      const res = await share(drop.id, tokenFor('fan', fanId), { channel: 'weibo' });
      expect(res.status).toBe(202);
      expect(res.body).toEqual({ dropId: drop.id, fanId, channel: 'weibo', countedAs: 'weibo' });
    });

    it.each([
      ['no channel', {}],
      ['an empty channel', { channel: '' }],
      ['a channel of 33 chars', { channel: 'c'.repeat(33) }],
      ['a numeric channel', { channel: 7 }],
      ['an unknown field', { channel: 'weibo', extra: 1 }],
    ])('refuses %s with 400', async (_n, body) => {
      const drop = await createDrop(dropBody());
      const res = await share(drop.id, tokenFor('fan'), body);
      expect(res.status).toBe(400);
      expect(errorOf(res)).toBe('VALIDATION_FAILED');
    });

    it('answers 404 for an unknown drop and 403 for a brand', async () => {
      expect((await share('d000000000000', tokenFor('fan'), { channel: 'x' })).status).toBe(404);
      const drop = await createDrop(dropBody());
      expect((await share(drop.id, tokenFor('brand'), { channel: 'x' })).status).toBe(403);
    });
  });
});
