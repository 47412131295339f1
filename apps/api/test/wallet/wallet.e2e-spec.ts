import { api, tokenFor, uniqueId } from '@flashdrop/testing';
import { credit } from './wallet-helpers';

interface Page {
  items: {
    id: string;
    kind: string;
    amountMinor: number;
    balanceAfterMinor: number;
    reference?: string;
  }[];
  nextCursor?: string;
}

/** GET /v1/wallet and GET /v1/wallet/transactions: a fan's own wallet only. */
describe('a fan reads their wallet', () => {
  it('starts at zero for a fan never credited', async () => {
    const fanId = uniqueId('fan');
    const res = await api('GET', '/v1/wallet', { token: tokenFor('fan', fanId) });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ fanId, balanceMinor: 0, currency: 'CNY' });
  });

  it('pages through the fan own ledger, newest first, and never shows another fan', async () => {
    const fanId = uniqueId('fan');
    const other = uniqueId('fan');
    for (let i = 1; i <= 5; i++) expect((await credit(fanId, i * 100)).status).toBe(201);
    expect((await credit(other, 999)).status).toBe(201);
    const token = tokenFor('fan', fanId);

    const seen: Page['items'] = [];
    let cursor: string | undefined;
    for (let pages = 0; pages < 10; pages++) {
      const query = cursor ? `?limit=2&cursor=${cursor}` : '?limit=2';
      const res = await api<Page>('GET', `/v1/wallet/transactions${query}`, { token });
      expect(res.status).toBe(200);
      expect(res.body.items.length).toBeLessThanOrEqual(2);
      seen.push(...res.body.items);
      cursor = res.body.nextCursor;
      if (!cursor) break;
    }
    expect(seen.map((t) => t.amountMinor)).toEqual([500, 400, 300, 200, 100]);
    expect(seen.map((t) => t.balanceAfterMinor)).toEqual([1500, 1000, 600, 300, 100]);
    expect(seen.every((t) => t.kind === 'credit')).toBe(true);
    expect(
      (await api<{ balanceMinor: number }>('GET', '/v1/wallet', { token })).body.balanceMinor,
    ).toBe(1500);
  });

  it.each([
    ['limit 0', '?limit=0', 'limit'],
    ['limit 101', '?limit=101', 'limit'],
    ['a non-numeric limit', '?limit=abc', 'limit'],
    ['a forged cursor', '?cursor=bm9wZQ', 'cursor'],
    ['an unknown parameter', '?page=2', 'page'],
  ])('answers 400 VALIDATION_FAILED for %s', async (_n, query, field) => {
    const res = await api<{ error: string; details: { field: string }[] }>(
      'GET',
      `/v1/wallet/transactions${query}`,
      { token: tokenFor('fan', uniqueId('fan')) },
    );
    expect(res.status).toBe(400);
    expect(res.body.error).toBe('VALIDATION_FAILED');
    expect(res.body.details.map((d) => d.field)).toEqual([field]);
  });

  it('is for fans only: 403 for operators and brands, 401 without a token', async () => {
    expect((await api('GET', '/v1/wallet', { token: tokenFor('operator') })).status).toBe(403);
    expect((await api('GET', '/v1/wallet/transactions', { token: tokenFor('brand') })).status).toBe(
      403,
    );
    expect((await api('GET', '/v1/wallet')).status).toBe(401);
  });
});
