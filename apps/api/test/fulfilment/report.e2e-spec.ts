import { runAudit } from '@flashdrop/audit';
import { Inventory, newDropId } from '@flashdrop/inventory';
import { LedgerFacts } from '@flashdrop/ledger';
import type { RedisClient } from '@flashdrop/persistence';
import {
  api,
  apiBaseUrl,
  browserTestsMaySkip,
  CHROMIUM_ARGS,
  closeStackConnections,
  createDrop,
  dropKeys,
  dropSnapshot,
  ensureChromium,
  eventually,
  fund,
  grabVia,
  moveHoldDeadline,
  openDropBody,
  OrderBody,
  openStackConnections,
  pay,
  setDropTimes,
  snapshotDiff,
  tokenFor,
  uniqueId,
} from '@flashdrop/testing';
import { Browser, chromium } from 'playwright-core';
import { DataSource } from 'typeorm';

interface Second {
  at: string;
  grabbed: number;
  backfilled: number;
  paid: number;
  expired: number;
  cancelled: number;
  refunded: number;
  taken: number;
}
interface Tally {
  orders: number;
  units: number;
  amountMinor: number;
}
interface Report {
  dropId: string;
  quantity: number;
  phase: string;
  final: boolean;
  saleStartsAt: string;
  orders: Record<'total' | 'held' | 'paid' | 'expired' | 'cancelled' | 'refunded', number>;
  units: Record<
    'grabbed' | 'backfilled' | 'held' | 'paid' | 'expired' | 'cancelled' | 'refunded' | 'unsold',
    number
  >;
  payments: Tally;
  refunds: Tally;
  uniqueFans: number;
  uniqueBuyers: number;
  paidShare: number | null;
  soldOutAt: string | null;
  timeToSellOutSeconds: number | null;
  refusals: { grabAttempts: number; byReason: Record<string, number> } | null;
  walletDebits: { debits: number; debitedMinor: number } | null;
  perSecond: Second[];
}

const PRICE = 500;
const reportPath = (dropId: string, query = '') => `/v1/drops/${dropId}/report${query}`;
const second = (iso: string) => `${iso.slice(0, 19)}.000Z`;
const sum = (xs: readonly Second[], k: keyof Omit<Second, 'at'>) =>
  xs.reduce((n, x) => n + x[k], 0);
/** How many of `isos` fall in each second. */
function perSecondCount(isos: readonly string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const t of isos) out[second(t)] = (out[second(t)] ?? 0) + 1;
  return out;
}
const nonZero = (xs: readonly Second[], k: keyof Omit<Second, 'at'>) =>
  Object.fromEntries(xs.filter((x) => x[k] > 0).map((x) => [x.at, x[k]]));

/** The drop's rows of sales.orders, all columns, in storage order. */
async function storedRows(db: DataSource, dropId: string): Promise<unknown[]> {
  return db.query(`SELECT * FROM sales.orders WHERE drop_id = $1 ORDER BY seq`, [dropId]);
}

const chromiumFound = ensureChromium();
const browserMissing = 'missing' in chromiumFound && browserTestsMaySkip();

describe('GET /v1/drops/:id/report: the report after the sale', () => {
  let redis: RedisClient;
  let inventory: Inventory;
  let db: DataSource;
  const brand = uniqueId('brand');
  const brandToken = tokenFor('brand', brand);

  beforeAll(async () => ({ redis, inventory, db } = await openStackConnections()));
  afterAll(() => closeStackConnections({ redis, db }));

  it("a finished drop's totals equal the audit's figures: paid, expired, cancelled, backfilled and refunded orders, refusals, the seconds, the CSV and the page", async () => {
    const drop = await createDrop(
      openDropBody({ quantity: 20, priceMinor: PRICE, perUserLimit: 1 }),
      brandToken,
    );
    const fans = Array.from({ length: 20 }, () => uniqueId('fan'));
    const grabs = await Promise.all(fans.map((f) => grabVia(drop.id, tokenFor('fan', f))));
    expect(grabs.map((g) => g.status)).toEqual(fans.map(() => 201));
    const orders = grabs.map((g) => g.body);
    const late = await Promise.all(
      Array.from({ length: 5 }, () => grabVia(drop.id, tokenFor('fan', uniqueId('fan')))),
    );
    expect(late.map((g) => g.body.error)).toEqual(late.map(() => 'SOLD_OUT'));

    // Sold out with every hold open: the figures so far, not final.
    const get = async (token = brandToken) => api<Report>('GET', reportPath(drop.id), { token });
    let report: Report | undefined;
    expect(
      await eventually(async () => {
        report = (await get()).body;
        return report.orders.total === 20;
      }, 30_000),
    ).toBe(true);
    expect(report).toMatchObject({ phase: 'sold_out', final: false, orders: { held: 20 } });

    // Two fans queue on the sold-out drop: the first two units released pass to them.
    const waiting = [uniqueId('waiting'), uniqueId('waiting')];
    for (const w of waiting) {
      expect(
        (await api('POST', `/v1/drops/${drop.id}/waitlist`, { token: tokenFor('fan', w) })).status,
      ).toBe(201);
    }

    // 10 paid, 5 cancelled (2 of them backfilled, both paid), 5 expired (their deadlines moved
    // into the past, then swept: nobody left on the waitlist, back to stock).
    await fund([...fans.slice(0, 10), ...waiting], 10 * PRICE);
    const paid = await Promise.all(orders.slice(0, 10).map((o, i) => pay(o.id, fans[i])));
    expect(paid.map((p) => p.status)).toEqual(paid.map(() => 200));
    const cancels = await Promise.all(
      orders
        .slice(10, 15)
        .map((o, i) =>
          api('POST', `/v1/orders/${o.id}/cancel`, { token: tokenFor('fan', fans[10 + i]) }),
        ),
    );
    expect(cancels.map((c) => c.status)).toEqual(cancels.map(() => 200));
    const backfills: OrderBody[] = [];
    for (const w of waiting) {
      const own = await api<OrderBody[]>('GET', '/v1/orders', { token: tokenFor('fan', w) });
      const held = own.body.filter((o) => o.dropId === drop.id && o.status === 'held');
      expect(held).toHaveLength(1);
      backfills.push(held[0]);
      expect((await pay(held[0].id, w)).status).toBe(200);
    }
    // Deadlines just past (after every grab: a hold cannot run out before it was made).
    const deadline = (await inventory.now()) - 1;
    for (const o of orders.slice(15)) await moveHoldDeadline(redis, o.id, deadline);
    await inventory.expireDue(drop.id);
    // The brand refunds one paid order: its unit goes back to stock.
    const refund = await api<OrderBody>('POST', `/v1/orders/${orders[0].id}/refund`, {
      token: brandToken,
      body: { reason: 'damaged in transit' },
    });
    expect(refund.body.status).toBe('refunded');
    // Still on sale (10 units back in stock): figures so far.
    expect((await get()).body).toMatchObject({ phase: 'on_sale', final: false });

    // The sale ends; once PostgreSQL holds the last statuses and analytics has counted the
    // refusals and the wallet's debits, the report is final.
    await setDropTimes(redis, drop.id, { saleEndsAt: (await inventory.now()) - 1 });
    expect(
      await eventually(async () => {
        report = (await get()).body;
        return (
          report.final &&
          report.orders.paid === 11 &&
          report.orders.refunded === 1 &&
          report.units.backfilled === 2 &&
          report.orders.cancelled === 5 &&
          report.orders.expired === 5 &&
          report.refusals?.byReason.SOLD_OUT === 5 &&
          report.walletDebits?.debits === 12
        );
      }, 30_000),
    ).toBe(true);
    const r = report!;

    // The audit reads the same drop from Redis and the ledger, not from sales.orders.
    const audit = await runAudit(inventory, new LedgerFacts(db), [drop.id]);
    expect(audit.breaches).toEqual([]);
    const fig = audit.figures.get(drop.id)!;
    expect(r.phase).toBe('ended');
    expect(r.orders).toEqual({
      total: 22,
      held: fig.orders.held + fig.orders.paying,
      paid: fig.orders.paid,
      expired: fig.orders.expired,
      cancelled: fig.orders.cancelled,
      refunded: fig.orders.refunded,
    });
    expect(r.units).toEqual({
      grabbed: 22,
      backfilled: 2,
      held: fig.units.held + fig.units.paying,
      paid: fig.units.paid,
      expired: fig.units.expired,
      cancelled: fig.units.cancelled,
      refunded: fig.units.refunded,
      unsold: 9,
    });
    expect(fig.orders).toMatchObject({ paid: 11, expired: 5, cancelled: 5, refunded: 1 });
    expect(r.payments).toEqual({ orders: fig.debits, units: 12, amountMinor: fig.debitedMinor });
    expect(fig.debitedMinor).toBe(12 * PRICE);
    expect(r.walletDebits).toEqual({ debits: fig.debits, debitedMinor: fig.debitedMinor });
    expect(r.refunds).toEqual({ orders: 1, units: 1, amountMinor: PRICE });
    expect(r.uniqueBuyers).toBe(fig.buyers);
    expect(r.uniqueFans).toBe(fig.fans);
    expect(r.paidShare).toBe(12 / 22);
    expect(r.refusals?.grabAttempts).toBe(25);

    // Sold out at the last grab; the clock from the sale's start.
    const lastGrab = Math.max(...orders.map((o) => Date.parse(String(o.createdAt))));
    expect(r.soldOutAt).toBe(new Date(lastGrab).toISOString());
    expect(r.timeToSellOutSeconds).toBe((lastGrab - Date.parse(r.saleStartsAt)) / 1000);

    // The seconds add up to the totals and sit where the orders happened.
    const s = r.perSecond;
    expect(sum(s, 'grabbed')).toBe(22);
    expect(sum(s, 'backfilled')).toBe(2);
    expect(sum(s, 'paid')).toBe(12);
    expect(sum(s, 'expired')).toBe(5);
    expect(sum(s, 'cancelled')).toBe(5);
    expect(sum(s, 'refunded')).toBe(1);
    expect(s[s.length - 1].taken).toBe(11);
    const made = [...orders, ...backfills];
    expect(nonZero(s, 'grabbed')).toEqual(perSecondCount(made.map((o) => String(o.createdAt))));
    const paidAt = await Promise.all(
      made.map(
        async (o) =>
          (await api<OrderBody>('GET', `/v1/orders/${o.id}`, { token: tokenFor('fan', o.fanId) }))
            .body.paidAt,
      ),
    );
    expect(nonZero(s, 'paid')).toEqual(
      perSecondCount(paidAt.filter((t) => t !== undefined).map(String)),
    );
    expect(nonZero(s, 'expired')).toEqual({ [second(new Date(deadline).toISOString())]: 5 });
    expect(s.map((x) => x.at)).toEqual([...s.map((x) => x.at)].sort());

    // The CSV: the same seconds, by ?format=csv or by Accept.
    const csv = await api<string>('GET', reportPath(drop.id, '?format=csv'), {
      token: brandToken,
    });
    expect(csv.status).toBe(200);
    expect(csv.headers.get('content-type')).toContain('text/csv');
    const cols = ['at', 'grabbed', 'backfilled', 'paid', 'expired', 'cancelled', 'refunded'];
    const expected = [
      [...cols, 'taken'].join(','),
      ...s.map((x) =>
        [x.at, x.grabbed, x.backfilled, x.paid, x.expired, x.cancelled, x.refunded, x.taken].join(
          ',',
        ),
      ),
      '',
    ].join('\r\n');
    expect(csv.body).toBe(expected);
    const byAccept = await api<string>('GET', reportPath(drop.id), {
      token: brandToken,
      headers: { accept: 'text/csv' },
    });
    expect(byAccept.body).toBe(expected);

    // An operator reads any brand's report.
    expect((await get(tokenFor('operator'))).body.orders).toEqual(r.orders);

    // The page draws the same figures.
    if (browserMissing) return;
    const browser: Browser = await chromium.launch({
      executablePath: 'path' in chromiumFound ? chromiumFound.path : undefined,
      args: CHROMIUM_ARGS,
    });
    try {
      const page = await browser.newPage({ viewport: { width: 1366, height: 768 } });
      const errors: string[] = [];
      page.on('pageerror', (e) => errors.push(e.message));
      await page.goto(`${apiBaseUrl()}/ops/report?drop=${drop.id}&access_token=${brandToken}`);
      await page.waitForFunction('document.body.dataset.loaded === "ok"');
      const text = (id: string) => page.locator(`#${id}`).textContent();
      expect(await text('units-paid')).toBe('11');
      expect(await text('orders-refunded')).toBe('1');
      expect(await text('orders-expired')).toBe('5');
      expect(await text('orders-cancelled')).toBe('5');
      expect(await text('buyers')).toBe('11');
      expect(await text('paid-share')).toBe('54.5%');
      expect(await text('refusals')).toContain('SOLD_OUT5');
      expect(await text('final')).toBe('final figures');
      expect(page.url()).not.toContain('access_token');
      expect(errors).toEqual([]);
    } finally {
      await browser.close();
    }
  }, 120_000);

  it('refuses whoever may not read it, and a malformed query, and writes nothing', async () => {
    const drop = await createDrop(openDropBody({ quantity: 5, priceMinor: PRICE }), brandToken);
    const fan = uniqueId('fan');
    expect((await grabVia(drop.id, tokenFor('fan', fan))).status).toBe(201);
    // Settled first: the order in PostgreSQL, and the worker's lifecycle has recorded (and
    // announced) the phase, its own write, which must not fall between the two snapshots.
    expect(
      await eventually(
        async () =>
          (await storedRows(db, drop.id)).length === 1 &&
          (await redis.hget(dropKeys(drop.id).drop, 'phase')) === 'on_sale',
        30_000,
      ),
    ).toBe(true);
    // Analytics' own keys (`:a:`) move with its counting, which a refusal does not cause.
    const ANALYTICS = /:a:/;
    const redisBefore = await dropSnapshot(redis, drop.id, ANALYTICS);
    const rowsBefore = await storedRows(db, drop.id);

    const cases: [string, string, string | undefined, number, string][] = [
      ['no token', reportPath(drop.id), undefined, 401, 'UNAUTHENTICATED'],
      ['a fan', reportPath(drop.id), tokenFor('fan', fan), 403, 'FORBIDDEN'],
      [
        'another brand',
        reportPath(drop.id),
        tokenFor('brand', uniqueId('brand')),
        404,
        'NOT_FOUND',
      ],
      ['an unknown drop', reportPath(newDropId()), brandToken, 404, 'NOT_FOUND'],
      ['not a drop id', reportPath('nope'), brandToken, 404, 'NOT_FOUND'],
      [
        'an unknown format',
        reportPath(drop.id, '?format=xml'),
        brandToken,
        400,
        'VALIDATION_FAILED',
      ],
      [
        'an unknown parameter',
        reportPath(drop.id, '?formt=csv'),
        brandToken,
        400,
        'VALIDATION_FAILED',
      ],
      [
        'CSV for another brand',
        reportPath(drop.id, '?format=csv'),
        tokenFor('brand', uniqueId('brand')),
        404,
        'NOT_FOUND',
      ],
    ];
    for (const [what, path, token, status, code] of cases) {
      const res = await api<Record<string, unknown>>('GET', path, { token });
      expect({ what, status: res.status, error: res.body.error }).toEqual({
        what,
        status,
        error: code,
      });
      expect(res.headers.get('content-type')).toContain('application/json');
      expect(res.headers.get('content-disposition')).toBeNull();
      // Nothing of the drop's figures in a refusal.
      expect(Object.keys(res.body).sort()).toEqual(
        Object.keys(res.body)
          .filter((k) => ['error', 'message', 'details'].includes(k))
          .sort(),
      );
      expect(JSON.stringify(res.body)).not.toContain(fan);
    }
    // Reading a report writes nothing, refused or not: neither Redis nor sales.orders moved.
    expect((await api('GET', reportPath(drop.id), { token: brandToken })).status).toBe(200);
    expect(snapshotDiff(redisBefore, await dropSnapshot(redis, drop.id, ANALYTICS))).toEqual({});
    expect(await storedRows(db, drop.id)).toEqual(rowsBefore);
  }, 60_000);
});
