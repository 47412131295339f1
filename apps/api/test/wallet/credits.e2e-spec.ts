import { DataSource } from 'typeorm';
import { api, testDatabase, tokenFor, uniqueId } from '@flashdrop/testing';
import { balanceOf, credit, operatorToken } from './wallet-helpers';

/** POST /v1/wallets/:fanId/credits and GET /v1/wallet through the running test stack. */
describe('operator credits', () => {
  let db: DataSource;
  beforeAll(async () => {
    db = await testDatabase();
  });
  afterAll(() => db.destroy());

  const transfersWith = async (reference: string) =>
    Number(
      (
        await db.query(`SELECT count(*) AS n FROM wallet.transfers WHERE reference = $1`, [
          reference,
        ])
      )[0].n,
    );

  it('credits a fan once per reference: 201, then 200 with the same balance', async () => {
    const fanId = uniqueId('fan');
    const reference = uniqueId('ref');
    const first = await credit(fanId, 1500, reference);
    expect(first.status).toBe(201);
    expect(first.body).toEqual({ fanId, balanceMinor: 1500 });
    const again = await credit(fanId, 1500, reference);
    expect(again.status).toBe(200);
    expect(again.body).toEqual({ fanId, balanceMinor: 1500 });
    expect(await balanceOf(tokenFor('fan', fanId))).toBe(1500);
    expect(await transfersWith(reference)).toBe(1);
  });

  it('credits exactly once under 200 concurrent requests over 50 references', async () => {
    const fanId = uniqueId('fan');
    const refs = Array.from({ length: 50 }, (_, i) => ({ ref: uniqueId(`r${i}`), amount: i + 1 }));
    const calls = refs.flatMap(({ ref, amount }) =>
      Array.from({ length: 4 }, () => credit(fanId, amount, ref)),
    );
    const results = await Promise.all(calls);
    const statuses = results.map((r) => r.status);
    expect(statuses.filter((s) => s === 201)).toHaveLength(50);
    expect(statuses.filter((s) => s === 200)).toHaveLength(150);
    const expected = refs.reduce((sum, r) => sum + r.amount, 0);
    expect(await balanceOf(tokenFor('fan', fanId))).toBe(expected);
  }, 60_000);

  it('refuses a reference reused for another fan or amount with 409, moving nothing', async () => {
    const fanId = uniqueId('fan');
    const other = uniqueId('fan');
    const reference = uniqueId('ref');
    expect((await credit(fanId, 100, reference)).status).toBe(201);
    const otherFan = await credit(other, 100, reference);
    expect(otherFan.status).toBe(409);
    expect(otherFan.body).toMatchObject({ error: 'IDEMPOTENCY_KEY_REUSED' });
    expect((await credit(fanId, 101, reference)).status).toBe(409);
    expect(await balanceOf(tokenFor('fan', other))).toBe(0);
    expect(await balanceOf(tokenFor('fan', fanId))).toBe(100);
  });

  it.each([
    ['zero', { amountMinor: 0, reference: 'x' }, ['amountMinor']],
    ['negative', { amountMinor: -5, reference: 'x' }, ['amountMinor']],
    ['fractional', { amountMinor: 1.5, reference: 'x' }, ['amountMinor']],
    ['over 10^12', { amountMinor: 1e12 + 1, reference: 'x' }, ['amountMinor']],
    ['a string amount', { amountMinor: '100', reference: 'x' }, ['amountMinor']],
    ['no reference', { amountMinor: 100 }, ['reference']],
    ['an empty reference', { amountMinor: 100, reference: '' }, ['reference']],
    ['a reference over 64 chars', { amountMinor: 100, reference: 'r'.repeat(65) }, ['reference']],
    ['an unknown field', { amountMinor: 100, reference: 'x', bonus: 1 }, ['bonus']],
    ['a bad currency', { amountMinor: 100, reference: 'x', currency: 'cny' }, ['currency']],
  ])('answers 400 VALIDATION_FAILED for %s and writes nothing', async (_n, body, fields) => {
    const fanId = uniqueId('fan');
    const reference = uniqueId('bad');
    const payload = {
      ...body,
      ...('reference' in body && body.reference === 'x' ? { reference } : {}),
    };
    const res = await api<{ error: string; details: { field: string }[] }>(
      'POST',
      `/v1/wallets/${fanId}/credits`,
      { token: operatorToken, body: payload },
    );
    expect(res.status).toBe(400);
    expect(res.body.error).toBe('VALIDATION_FAILED');
    expect(res.body.details.map((d) => d.field).sort()).toEqual([...fields].sort());
    expect(await transfersWith(reference)).toBe(0);
    const accounts = await db.query(`SELECT 1 FROM wallet.accounts WHERE owner_id = $1`, [fanId]);
    expect(accounts).toHaveLength(0);
  });

  it('answers 403 FORBIDDEN to a fan or a brand, 401 without a token, and writes nothing', async () => {
    const fanId = uniqueId('fan');
    const reference = uniqueId('ref');
    for (const role of ['fan', 'brand'] as const) {
      const res = await credit(fanId, 100, reference, tokenFor(role, fanId));
      expect(res.status).toBe(403);
      expect(res.body).toMatchObject({ error: 'FORBIDDEN' });
    }
    const anonymous = await api('POST', `/v1/wallets/${fanId}/credits`, {
      body: { amountMinor: 100, reference },
    });
    expect(anonymous.status).toBe(401);
    expect(await transfersWith(reference)).toBe(0);
  });
});
