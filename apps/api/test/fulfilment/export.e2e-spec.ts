import {
  api,
  createDrop,
  eventually,
  fund,
  grabVia,
  openDropBody,
  pay,
  soakRounds,
  tokenFor,
  uniqueId,
} from '@flashdrop/testing';

interface ExportedOrder {
  id: string;
  dropId: string;
  fanId: string;
  status: string;
  quantity: number;
  amountMinor: number;
  currency: string;
  createdAt: string;
  expiresAt: string;
  paidAt?: string;
}
interface ExportPage {
  items: ExportedOrder[];
  nextCursor?: string;
}

const ordersPath = (dropId: string, query: Record<string, string | number> = {}) => {
  const qs = new URLSearchParams(
    Object.entries(query).map(([k, v]): [string, string] => [k, String(v)]),
  );
  return `/v1/drops/${dropId}/orders${qs.size > 0 ? `?${qs}` : ''}`;
};

/** Every page of the export, JSON: the ids in the order they were listed. */
async function exportJson(dropId: string, token: string, limit: number, status?: string) {
  const ids: string[] = [];
  let cursor: string | undefined;
  for (let pages = 0; pages < 10_000; pages++) {
    const res = await api<ExportPage>(
      'GET',
      ordersPath(dropId, { limit, ...(status ? { status } : {}), ...(cursor ? { cursor } : {}) }),
      { token },
    );
    if (res.status !== 200) throw new Error(`export answered ${res.status}`);
    ids.push(...res.body.items.map((o) => o.id));
    cursor = res.body.nextCursor;
    if (cursor === undefined) return ids;
  }
  throw new Error('export never ended');
}

/** One CSV page: its header, its rows as records, and the next cursor. */
async function csvPage(dropId: string, token: string, query: Record<string, string | number>) {
  const r = await api<string>('GET', ordersPath(dropId, query), {
    token,
    headers: { accept: 'text/csv' },
  });
  if (r.status !== 200) throw new Error(`csv export answered ${r.status}: ${r.body}`);
  const lines = r.body.split('\r\n');
  expect(lines.pop()).toBe('');
  const header = lines[0].split(',');
  const rows = lines.slice(1).map((line) => {
    const cells = line.split(',');
    return Object.fromEntries(header.map((h, i) => [h, cells[i]]));
  });
  return {
    header,
    rows,
    contentType: r.headers.get('content-type'),
    nextCursor: r.headers.get('x-next-cursor') ?? undefined,
  };
}

/** A drop on sale (`quantity` units) with `n` held orders (one per fan), and the fans. */
async function dropWithHolds(n: number, brandToken: string, quantity = n) {
  const drop = await createDrop(openDropBody({ quantity, priceMinor: 500 }), brandToken);
  const fans = Array.from({ length: n }, () => uniqueId('fan'));
  const orderIds: string[] = [];
  for (let i = 0; i < fans.length; i += 100) {
    const answers = await Promise.all(
      fans.slice(i, i + 100).map((fan) => grabVia(drop.id, tokenFor('fan', fan))),
    );
    for (const a of answers) {
      if (a.status !== 201) throw new Error(`grab answered ${a.status}`);
      orderIds.push(a.body.id);
    }
  }
  return { drop, fans, orderIds };
}

/** Waits until PostgreSQL holds all `n` orders of the drop (order persistence runs every 200 ms). */
async function waitUntilStored(dropId: string, token: string, n: number) {
  const stored = await eventually(
    async () => (await exportJson(dropId, token, 1000)).length === n,
    30_000,
    250,
  );
  if (!stored) throw new Error(`the drop's ${n} orders never all reached PostgreSQL`);
}

describe("GET /v1/drops/:id/orders: the brands' export", () => {
  const brand = uniqueId('brand');
  const brandToken = tokenFor('brand', brand);

  it('pages through every order exactly once while orders are being paid and more are grabbed', async () => {
    for (let round = 0; round < soakRounds(); round++) {
      const { drop, fans, orderIds } = await dropWithHolds(240, brandToken, 360);
      await waitUntilStored(drop.id, brandToken, 240);
      await fund(fans, 10_000);

      // While the pages are read: payments (status updates of stored rows) and 120 more grabs
      // (new rows stored between the pages), in small steps so that many reads fall between
      // them.
      let live = true;
      const payments = (async () => {
        let paid = 0;
        for (let i = 0; i < fans.length && live; i += 20) {
          const answers = await Promise.all(
            orderIds.slice(i, i + 20).map((id, k) => pay(id, fans[i + k])),
          );
          paid += answers.filter((a) => a.status === 200).length;
        }
        return paid;
      })();
      const grabbed: string[] = [];
      const grabs = (async () => {
        for (let i = 0; i < 120; i += 10) {
          const answers = await Promise.all(
            Array.from({ length: 10 }, () => grabVia(drop.id, tokenFor('fan', uniqueId('fan')))),
          );
          for (const a of answers) {
            if (a.status !== 201) throw new Error(`grab answered ${a.status}`);
            grabbed.push(a.body.id);
          }
        }
      })();
      const passes: string[][] = [];
      for (let pass = 0; pass < 3; pass++) passes.push(await exportJson(drop.id, brandToken, 7));
      await grabs;
      live = false;
      expect(await payments).toBeGreaterThan(0);

      // Once everything is stored, one more export lists all 360 orders, each once.
      const all = [...orderIds, ...grabbed];
      await waitUntilStored(drop.id, brandToken, all.length);
      const final = await exportJson(drop.id, brandToken, 7);
      expect(new Set(final).size).toBe(final.length);
      expect([...final].sort()).toEqual([...all].sort());
      const position = new Map(final.map((id, i) => [id, i]));
      for (const ids of passes) {
        // No order twice, none skipped of those stored before the pass began, nothing unknown.
        expect(new Set(ids).size).toBe(ids.length);
        expect(ids.filter((id) => orderIds.includes(id))).toHaveLength(240);
        expect(ids.every((id) => position.has(id))).toBe(true);
        // Storage order does not move with updates: each pass lists its orders as the final one.
        expect(ids).toEqual(final.slice(0, ids.length));
      }
    }
  }, 240_000);

  it('serves the same pages as CSV, with a header line and the next cursor in X-Next-Cursor', async () => {
    const { drop, orderIds } = await dropWithHolds(25, brandToken);
    await waitUntilStored(drop.id, brandToken, 25);
    const json = await api<ExportPage>('GET', ordersPath(drop.id, { limit: 10 }), {
      token: brandToken,
    });
    const first = await csvPage(drop.id, brandToken, { limit: 10 });
    expect(first.contentType).toMatch(/^text\/csv/);
    expect(first.header).toEqual([
      'id',
      'dropId',
      'fanId',
      'quantity',
      'amountMinor',
      'currency',
      'status',
      'createdAt',
      'expiresAt',
      'paidAt',
      'unitPriceMinor',
      'discountMinor',
      'refundedAt',
    ]);
    expect(first.rows).toHaveLength(10);
    expect(first.nextCursor).toBe(json.body.nextCursor);
    expect(first.rows.map((r) => r.id)).toEqual(json.body.items.map((o) => o.id));
    expect(first.rows[0]).toEqual({
      ...Object.fromEntries(Object.entries(json.body.items[0]).map(([k, v]) => [k, String(v)])),
      paidAt: '',
      refundedAt: '',
    });

    const ids = first.rows.map((r) => r.id);
    let cursor = first.nextCursor;
    while (cursor !== undefined) {
      const page = await csvPage(drop.id, brandToken, { limit: 10, cursor });
      ids.push(...page.rows.map((r) => r.id));
      cursor = page.nextCursor;
    }
    expect(ids.sort()).toEqual([...orderIds].sort());
  }, 60_000);

  it('filters by status, shows an operator every drop, and defaults to 100 per page', async () => {
    const { drop, fans, orderIds } = await dropWithHolds(120, brandToken);
    await waitUntilStored(drop.id, brandToken, 120);
    await fund(fans.slice(0, 3), 10_000);
    for (let i = 0; i < 3; i++) expect((await pay(orderIds[i], fans[i])).status).toBe(200);
    const cancel = await api('POST', `/v1/orders/${orderIds[3]}/cancel`, {
      token: tokenFor('fan', fans[3]),
    });
    expect(cancel.status).toBe(200);

    const settled = await eventually(
      async () =>
        (await exportJson(drop.id, brandToken, 1000, 'paid')).length === 3 &&
        (await exportJson(drop.id, brandToken, 1000, 'cancelled')).length === 1,
      20_000,
      250,
    );
    expect(settled).toBe(true);
    expect((await exportJson(drop.id, brandToken, 1000, 'paid')).sort()).toEqual(
      orderIds.slice(0, 3).sort(),
    );
    expect(await exportJson(drop.id, brandToken, 1000, 'held')).toHaveLength(116);
    expect(await exportJson(drop.id, brandToken, 1000, 'expired')).toEqual([]);

    const operator = await api<ExportPage>('GET', ordersPath(drop.id), {
      token: tokenFor('operator'),
    });
    expect(operator.status).toBe(200);
    expect(operator.body.items).toHaveLength(100);
    expect(operator.body.nextCursor).toEqual(expect.any(String));
    const paid = operator.body.items.find((o) => o.id === orderIds[0]);
    expect(paid).toMatchObject({ status: 'paid', dropId: drop.id, fanId: fans[0] });
    expect(paid?.paidAt).toEqual(expect.any(String));
  }, 90_000);

  describe('refusals (each answers nothing of the drop and changes nothing)', () => {
    let dropId: string;
    let orderIds: string[];
    let before: string;
    const ownersView = async () =>
      JSON.stringify(
        (await api<ExportPage>('GET', ordersPath(dropId), { token: brandToken })).body,
      );
    beforeAll(async () => {
      const made = await dropWithHolds(3, brandToken);
      dropId = made.drop.id;
      orderIds = made.orderIds;
      await waitUntilStored(dropId, brandToken, 3);
      before = await ownersView();
    }, 60_000);

    afterAll(async () => {
      // Every refusal was a read: the drop's orders are as they were, status for status.
      expect(await ownersView()).toBe(before);
    });

    const refusals: [string, number, string, () => string, Record<string, string | number>][] = [
      ['another brand', 404, 'NOT_FOUND', () => tokenFor('brand'), {}],
      ['a fan', 403, 'FORBIDDEN', () => tokenFor('fan'), {}],
      ['no token', 401, 'UNAUTHENTICATED', () => '', {}],
      ['limit 0', 400, 'VALIDATION_FAILED', () => brandToken, { limit: 0 }],
      ['limit 1001', 400, 'VALIDATION_FAILED', () => brandToken, { limit: 1001 }],
      [
        'a limit that is not a number',
        400,
        'VALIDATION_FAILED',
        () => brandToken,
        { limit: 'ten' },
      ],
      ['an unknown status', 400, 'VALIDATION_FAILED', () => brandToken, { status: 'paying' }],
      [
        'a forged cursor',
        400,
        'VALIDATION_FAILED',
        () => brandToken,
        { cursor: 'bm90LWEtY3Vyc29y' },
      ],
      [
        'a cursor of another form',
        400,
        'VALIDATION_FAILED',
        () => brandToken,
        { cursor: Buffer.from('o1:0').toString('base64url') },
      ],
      ['an unknown parameter', 400, 'VALIDATION_FAILED', () => brandToken, { page: 2 }],
    ];
    it.each(refusals)('%s: %i %s', async (_, status, code, token, query) => {
      const t = token();
      for (const accept of ['application/json', 'text/csv']) {
        const res = await api<{ error: string; items?: unknown }>(
          'GET',
          ordersPath(dropId, query),
          {
            token: t || undefined,
            headers: { accept },
          },
        );
        expect(res.status).toBe(status);
        expect(res.body.error).toBe(code);
        expect(res.headers.get('content-type')).toMatch(/^application\/json/);
        expect(res.body.items).toBeUndefined();
        expect(res.headers.get('x-next-cursor')).toBeNull();
        const text = JSON.stringify(res.body);
        for (const id of orderIds) expect(text).not.toContain(id);
      }
    });

    it('an unknown drop: 404 NOT_FOUND', async () => {
      for (const id of ['d000000000000', 'not-a-drop']) {
        const res = await api<{ error: string }>('GET', ordersPath(id), { token: brandToken });
        expect(res.status).toBe(404);
        expect(res.body.error).toBe('NOT_FOUND');
      }
    });
  });
});
