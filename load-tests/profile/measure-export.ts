/**
 * A bounded measurement of the brands' order export (docs/fulfilment.md) on a running stack
 * (the environment's DATABASE_URL, API_PORT, JWT_SECRET, as the services read them): stores
 * ORDERS orders of a drop of its own in `sales.orders` (through OrderRecords, as the worker's
 * order persistence would), then reads the whole export through the public API, every page
 * after the previous one's cursor, once as CSV and once as JSON, and prints the time of each;
 * then times the report's figures of that drop (libs/sales DropFigures, what
 * GET /v1/drops/:id/report reads from PostgreSQL), three times.
 *
 * Usage: node -r ts-node/register/transpile-only -r tsconfig-paths/register \
 *          load-tests/profile/measure-export.ts [--orders 50000] [--limit 1000]
 * The drop lives in PostgreSQL only (never in Redis): the export reads nothing else. The rows
 * stay behind in the stack's database (npm test starts from fresh data).
 */
import { request } from 'node:http';
import { signToken } from '@flashdrop/auth';
import { defineCommand, Flags, Progress, runCommand } from '@flashdrop/cli';
import { FlashdropConfig, loadConfig } from '@flashdrop/config';
import { InventoryOrder, newDropId, newOrderId } from '@flashdrop/inventory';
import { SalesDatabase } from '@flashdrop/sales';

const spec = defineCommand({
  usage: 'measure-export',
  title: "time the brands' order export of one large drop",
  summary:
    'Stores the orders of a drop of its own in the stack’s PostgreSQL, then pages through the ' +
    'whole export (GET /v1/drops/:id/orders) as CSV and as JSON and prints how long each took, ' +
    'then how long the report after the sale takes to compute its figures for that drop.',
  flags: {
    orders: { type: 'integer', value: 'N', description: 'orders to store (default 50,000)' },
    limit: { type: 'integer', value: 'N', description: 'orders per page, 1..1000 (default 1000)' },
  },
  details: ['Run it against a test stack (npm test wipes its data); it writes nothing to Redis.'],
  examples: ['measure-export --orders 50000 --limit 1000'],
});

const BATCH = 5_000;

/** One GET, its body counted (not kept): status, bytes, the next cursor and the body when JSON. */
function get(
  port: number,
  path: string,
  token: string,
  accept: string,
): Promise<{ status: number; bytes: number; lines: number; cursor?: string; json?: unknown }> {
  return new Promise((resolve, reject) => {
    const req = request(
      { host: '127.0.0.1', port, path, headers: { authorization: `Bearer ${token}`, accept } },
      (res) => {
        let bytes = 0;
        let lines = 0;
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => {
          bytes += chunk.length;
          for (let i = chunk.indexOf(10); i !== -1; i = chunk.indexOf(10, i + 1)) lines++;
          if (accept === 'application/json') chunks.push(chunk);
        });
        res.on('end', () => {
          const header = res.headers['x-next-cursor'];
          resolve({
            status: res.statusCode ?? 0,
            bytes,
            lines,
            cursor: typeof header === 'string' ? header : undefined,
            json: chunks.length > 0 ? JSON.parse(Buffer.concat(chunks).toString()) : undefined,
          });
        });
      },
    );
    req.on('error', reject);
    req.end();
  });
}

async function exportAll(
  port: number,
  dropId: string,
  token: string,
  limit: number,
  accept: 'text/csv' | 'application/json',
): Promise<{ secs: number; pages: number; bytes: number; rows: number }> {
  const started = process.hrtime.bigint();
  let cursor: string | undefined;
  let pages = 0;
  let bytes = 0;
  let rows = 0;
  do {
    const query = `limit=${limit}${cursor ? `&cursor=${cursor}` : ''}`;
    const page = await get(port, `/v1/drops/${dropId}/orders?${query}`, token, accept);
    if (page.status !== 200) throw new Error(`the export answered ${page.status}`);
    pages++;
    bytes += page.bytes;
    if (accept === 'application/json') {
      const body = page.json as { items: unknown[]; nextCursor?: string };
      rows += body.items.length;
      cursor = body.nextCursor;
    } else {
      rows += page.lines - 1; // the header line
      cursor = page.cursor;
    }
  } while (cursor !== undefined);
  return { secs: Number(process.hrtime.bigint() - started) / 1e9, pages, bytes, rows };
}

async function main(flags: Flags<typeof spec.flags>): Promise<void> {
  const n = flags.orders ?? 50_000;
  const limit = flags.limit ?? 1000;
  const config = loadConfig(FlashdropConfig);
  const sales = SalesDatabase.pool(config, { applicationName: 'measure-export' });
  await sales.open();
  try {
    const now = Date.now();
    const dropId = newDropId();
    const brandId = `brand-measure-${dropId}`;
    await sales.drops.insert({
      id: dropId,
      brandId,
      title: 'export measure',
      sku: 'MEASURE',
      priceMinor: 1_999,
      currency: 'CNY',
      quantity: n,
      perUserLimit: 1,
      reservationRequired: false,
      saleStartsAt: now - 60_000,
      holdSeconds: 600,
      allocation: 'first_come',
      paused: false,
      cancelled: false,
      createdAt: now - 120_000,
      version: 1,
    });
    const stored = new Progress('orders stored', n);
    const storeStarted = process.hrtime.bigint();
    for (let i = 0; i < n; i += BATCH) {
      const batch: InventoryOrder[] = [];
      for (let k = i; k < Math.min(n, i + BATCH); k++) {
        const paid = k % 3 !== 0;
        batch.push({
          id: newOrderId(dropId),
          dropId,
          fanId: `fan-measure-${k}`,
          quantity: 1,
          amountMinor: 1_999,
          unitPriceMinor: 1_999,
          discountMinor: 0,
          currency: 'CNY',
          status: paid ? 'paid' : 'expired',
          createdAt: now - 60_000 + k,
          expiresAt: now + 540_000 + k,
          paidAt: paid ? now - 30_000 + k : undefined,
        });
      }
      await sales.orders.upsert(batch);
      stored.tick(i + batch.length);
    }
    const storeSecs = Number(process.hrtime.bigint() - storeStarted) / 1e9;
    const token = signToken(config.JWT_SECRET, { sub: brandId, role: 'brand' }, 3600);
    const csv = await exportAll(config.API_PORT, dropId, token, limit, 'text/csv');
    const json = await exportAll(config.API_PORT, dropId, token, limit, 'application/json');
    for (const [what, r] of [
      ['CSV', csv],
      ['JSON', json],
    ] as const) {
      if (r.rows !== n) throw new Error(`the ${what} export listed ${r.rows} of ${n} orders`);
    }
    const line = (what: string, r: typeof csv) =>
      `${what}: ${r.secs.toFixed(2)} s, ${r.pages} pages of ${limit}, ` +
      `${(r.bytes / 1e6).toFixed(1)} MB, ${Math.round(n / r.secs).toLocaleString('en-US')} orders/s`;
    console.log(`stored ${n.toLocaleString('en-US')} orders in ${storeSecs.toFixed(2)} s`);
    console.log(line('export as CSV ', csv));
    console.log(line('export as JSON', json));
    const reportSecs: number[] = [];
    for (let i = 0; i < 3; i++) {
      const started = process.hrtime.bigint();
      const figures = await sales.figures.of(dropId, n);
      reportSecs.push(Number(process.hrtime.bigint() - started) / 1e9);
      if (figures.all.orders !== n) throw new Error(`the report counted ${figures.all.orders}`);
    }
    console.log(
      `report figures: ${reportSecs.map((x) => `${(x * 1000).toFixed(0)} ms`).join(', ')}`,
    );
  } finally {
    await sales.close();
  }
}

void runCommand(spec, process.argv.slice(2), main).then((code) => {
  process.exitCode = code;
});
