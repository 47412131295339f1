import { signToken } from '@flashdrop/auth';
import { defineCommand, Flags } from '@flashdrop/cli';
import { FlashdropConfig, loadConfig } from '@flashdrop/config';
import { performance } from 'node:perf_hooks';
import { DemoReceiver } from './demo-receiver';
import { drawDemo } from './demo-draw';
import { groupDemo } from './demo-group';
import { Traffic } from './demo-traffic';

export const demoCommand = defineCommand({
  usage: 'npm run demo --',
  title: 'a phone drop: the rush, the same phone by draw, then a group buy (npm start runs it)',
  summary:
    'The demo drop (run by npm start against the dev stack): a phone drop modelled on the ' +
    'December 2012 sale, scaled down by default. Creates the drop, runs the reservation window ' +
    'with shares and referrals, waits for the sale on the server clock, lets every fan grab once ' +
    'through the public API, pays a sample of the holds from wallets, and prints the sell-out ' +
    'time and the final counts. The brand registers a webhook to a receiver of the demo on ' +
    'loopback (the stack must allow loopback: WEBHOOK_ALLOWED_NETWORKS, as the dev profile ' +
    'does), which verifies every delivery it gets and counts them. Then the same phone by ' +
    'draw: entrants reserve, the worker commits to a secret seed when reservations close and ' +
    'draws at the sale start, the demo recomputes the draw from public data, and a tenth of ' +
    'the winners let their hold pass down the waitlist. Last a group buy: fans start groups and ' +
    'friends join through the group id, half of them at the share discount; most groups fill ' +
    '(escrow, then every member paid at once), and a fifth miss one payment and fail at their ' +
    'one-minute deadline (paid members refunded, units back).',
  flags: {
    full: {
      type: 'boolean',
      description: 'the real sale: 50,000 units, 240,000 fans; the draw among 1,300,000 entrants',
    },
    units: { type: 'integer', value: 'N', description: 'units of the drop (default 5,000)' },
    fans: {
      type: 'integer',
      value: 'N',
      description: 'fans who reserve and grab (default 20,000)',
    },
    concurrency: { type: 'integer', value: 'N', description: 'requests in flight (default 64)' },
    pay: { type: 'integer', value: 'N', description: 'holds paid from wallets (default 200)' },
    api: {
      type: 'string',
      value: 'URL',
      description: 'the API (default http://127.0.0.1:API_PORT)',
    },
    'draw-units': {
      type: 'integer',
      value: 'N',
      description: 'units of the draw drop (default 2,000; --full 50,000)',
    },
    'draw-entrants': {
      type: 'integer',
      value: 'N',
      description: 'fans who enter the draw (default 20,000; --full 1,300,000)',
    },
    groups: { type: 'integer', value: 'N', description: 'groups of the group buy (default 40)' },
    'group-size': {
      type: 'integer',
      value: 'N',
      description: 'members per group, 2..50 (default 5)',
    },
    'no-draw': { type: 'boolean', description: 'no draw' },
    'no-group': { type: 'boolean', description: 'no group buy' },
    'draw-only': { type: 'boolean', description: 'the draw only' },
    'group-only': { type: 'boolean', description: 'the group buy only' },
  },
  examples: [
    'npm run demo',
    'npm run demo -- --units=500 --fans=2000',
    'npm run demo -- --draw-only --draw-entrants=10000 --draw-units=1000',
    'npm run demo -- --group-only --groups=100',
    'npm run demo -- --full',
  ],
});

interface Options {
  units: number;
  fans: number;
  concurrency: number;
  pay: number;
  api: string;
  rush: boolean;
  draw: boolean;
  drawUnits: number;
  drawEntrants: number;
  group: boolean;
  groups: number;
  groupSize: number;
}

interface Drop {
  id: string;
  phase: string;
  remaining: number;
  reservations: number;
  saleStartsAt: string;
}

function options(flags: Flags<typeof demoCommand.flags>): Options {
  const config = loadConfig(FlashdropConfig);
  return {
    units: flags.units ?? (flags.full ? 50_000 : 5_000),
    fans: flags.fans ?? (flags.full ? 240_000 : 20_000),
    concurrency: flags.concurrency ?? 64,
    pay: flags.pay ?? 200,
    api: flags.api ?? `http://127.0.0.1:${config.API_PORT}`,
    rush: !flags['draw-only'] && !flags['group-only'],
    draw: !flags['no-draw'] && !flags['group-only'],
    group: !flags['no-group'] && !flags['draw-only'],
    groups: flags.groups ?? 40,
    groupSize: flags['group-size'] ?? 5,
    drawUnits: flags['draw-units'] ?? (flags.full ? 50_000 : 2_000),
    drawEntrants: flags['draw-entrants'] ?? (flags.full ? 1_300_000 : 20_000),
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const secs = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
const count = (n: number) => n.toLocaleString('en-US');

function tally(map: Map<string, number>, key: string): void {
  map.set(key, (map.get(key) ?? 0) + 1);
}

const CALIBRATION_FANS = 1_000;

/** Reservations per second the stack answers now (a throwaway drop, cancelled afterwards). */
async function calibrate(
  http: Traffic,
  brand: string,
  fanToken: (i: number) => string,
  run: string,
): Promise<number> {
  const now = Date.now();
  const probe = await http.json<Drop>('POST', '/v1/drops', brand, {
    title: 'Demo calibration (cancelled)',
    sku: `CALIB-${run}`,
    priceMinor: 1,
    quantity: 1,
    reservationOpensAt: new Date(now - 1_000).toISOString(),
    reservationClosesAt: new Date(now + 3_600_000).toISOString(),
    saleStartsAt: new Date(now + 3_600_000).toISOString(),
  });
  const burst = async (from: number, n: number) => {
    const t0 = performance.now();
    await http.each(n, async (i) => {
      await http.send('POST', `/v1/drops/${probe.id}/reservations`, fanToken(from + i), {});
    });
    return (performance.now() - t0) / 1000;
  };
  // A first burst warms up connections, the JIT and the token cache; the second is measured.
  await burst(0, CALIBRATION_FANS / 2);
  const seconds = await burst(CALIBRATION_FANS, CALIBRATION_FANS);
  await http.send('POST', `/v1/drops/${probe.id}/cancel`, brand);
  return CALIBRATION_FANS / seconds;
}

/** `npm run demo`. */
export async function demo(flags: Flags<typeof demoCommand.flags>): Promise<void> {
  const opt = options(flags);
  const config = loadConfig(FlashdropConfig);
  const token = (sub: string, role: 'fan' | 'brand' | 'operator') =>
    signToken(config.JWT_SECRET, { sub, role }, 7200);
  const http = new Traffic(new URL(opt.api), opt.concurrency);
  const run = Date.now().toString(36);
  const fanId = (i: number) => `demo-${run}-${i}`;
  const fanTokens = Array.from({ length: opt.fans }, (_, i) => token(fanId(i), 'fan'));
  const brand = token(`brand-demo-${run}`, 'brand');
  const operator = token(`ops-demo-${run}`, 'operator');

  // The reservation window cannot move once open, so it is sized from a measured rate: a
  // short calibration burst on a throwaway drop (cancelled right after, before its sale).
  if (opt.rush || opt.draw) {
    const rate = await calibrate(http, brand, (i) => token(`calib-${run}-${i}`, 'fan'), run);
    console.log(`calibration: ~${count(Math.round(rate))} reservations/s on this machine now`);
    if (opt.rush) await rush(opt, http, run, rate, { fanId, fanTokens, brand, operator });
    if (opt.draw) {
      await drawDemo(http, {
        entrants: opt.drawEntrants,
        units: opt.drawUnits,
        reservationRate: rate,
        api: opt.api,
        run,
        fanToken: (sub) => token(sub, 'fan'),
        brand,
        operator,
      });
    }
  }
  if (opt.group) {
    await groupDemo(http, {
      groups: opt.groups,
      size: opt.groupSize,
      run,
      api: opt.api,
      fanToken: (sub) => token(sub, 'fan'),
      brand,
      operator,
    });
  }
  http.close();
}

/** The phone rush of Dec 2012: reservations, every fan grabbing at the start, payments. */
async function rush(
  opt: Options,
  http: Traffic,
  run: string,
  rate: number,
  who: { fanId: (i: number) => string; fanTokens: string[]; brand: string; operator: string },
): Promise<void> {
  const { fanId, fanTokens, brand, operator } = who;
  console.log(
    `Flashdrop demo: a phone drop of ${count(opt.units)} units, ${count(opt.fans)} fans ` +
      `(the 2012 sale: 50,000 units, 240,000 fans rushing, sold out in 314 s)`,
  );

  // The brand's own system: a receiver on loopback, told of every payment and the sell-out.
  const receiver = new DemoReceiver();
  const hook = await http.json<{ id: string; secret: string }>('POST', '/v1/webhooks', brand, {
    url: await receiver.start(),
    events: ['order.paid', 'drop.sold_out'],
  });
  receiver.secret = hook.secret;
  console.log(`webhook ${hook.id} registered: a receiver on loopback verifies each delivery`);

  // Capped so a busy machine still sees its sale within a minute or two (fans who did not
  // reserve in time are refused NOT_RESERVED in the rush, and counted).
  const maxWindowMs = opt.fans > 50_000 ? 600_000 : 60_000;
  const windowMs = Math.min(
    maxWindowMs,
    Math.max(8_000, Math.ceil((opt.fans / (rate * 0.9)) * 1000) + 2_000),
  );
  const opensAt = Date.now() + 1_000;
  const saleAt = opensAt + windowMs;
  const drop = await http.json<Drop>('POST', '/v1/drops', brand, {
    title: 'Demo phone (limited edition)',
    sku: `PHONE-${run}`,
    priceMinor: 199_900,
    currency: 'CNY',
    quantity: opt.units,
    perUserLimit: 1,
    reservationRequired: true,
    reservationOpensAt: new Date(opensAt).toISOString(),
    reservationClosesAt: new Date(saleAt).toISOString(),
    saleStartsAt: new Date(saleAt).toISOString(),
    saleEndsAt: new Date(saleAt + 3_600_000).toISOString(),
    holdSeconds: 600,
  });
  console.log(`drop ${drop.id} created: reservations open for ${secs(windowMs)}, then the sale`);

  await sleep(Math.max(0, opensAt - Date.now() + 50));
  const reservationCodes = new Map<string, number>();
  const r0 = performance.now();
  await http.each(
    opt.fans,
    async (i) => {
      // Every third fan came through a friend's share; every tenth shares it on.
      const referrerId = i % 3 === 1 ? fanId(i - 1) : undefined;
      const res = await http.send('POST', `/v1/drops/${drop.id}/reservations`, fanTokens[i], {
        ...(referrerId ? { referrerId } : {}),
      });
      tally(reservationCodes, String(res.status));
      if (i % 10 === 0) {
        await http.send('POST', `/v1/drops/${drop.id}/shares`, fanTokens[i], { channel: 'weibo' });
      }
    },
    'reservations',
  );
  const reserveMs = performance.now() - r0;
  const reserved = await http.json<Drop>('GET', `/v1/drops/${drop.id}`);
  console.log(
    `reservations: ${count(reserved.reservations)} in ${secs(reserveMs)} ` +
      `(${count(Math.round(opt.fans / (reserveMs / 1000)))}/s) ${JSON.stringify(Object.fromEntries(reservationCodes))}`,
  );

  // Wait for the sale on the server's clock (the phase comes from Redis TIME).
  console.log(`waiting for the sale to open at ${new Date(saleAt).toISOString()} ...`);
  await sleep(Math.max(0, saleAt - Date.now() - 200));
  for (;;) {
    const d = await http.json<Drop>('GET', `/v1/drops/${drop.id}`);
    if (d.phase !== 'reservation_open' && d.phase !== 'scheduled') break;
    await sleep(10);
  }

  // The rush: every fan grabs once, as fast as the bounded generator sends.
  const grabCodes = new Map<string, number>();
  const orders: { id: string; fan: number }[] = [];
  let lastAcceptedAt = 0;
  const g0 = performance.now();
  await http.each(
    opt.fans,
    async (i) => {
      const res = await http.send('POST', `/v1/drops/${drop.id}/purchases`, fanTokens[i]);
      if (res.status === 201) {
        orders.push({ id: (JSON.parse(res.body) as { id: string }).id, fan: i });
        lastAcceptedAt = performance.now();
        tally(grabCodes, 'held');
      } else {
        let code = String(res.status);
        try {
          code = (JSON.parse(res.body) as { error?: string }).error ?? code;
        } catch {
          // not JSON: keep the status
        }
        tally(grabCodes, code);
      }
    },
    'grabs',
  );
  const rushMs = performance.now() - g0;
  const soldOutMs = lastAcceptedAt - g0;
  const afterRush = await http.json<Drop>('GET', `/v1/drops/${drop.id}`);
  console.log(
    `rush: ${count(opt.fans)} grabs in ${secs(rushMs)} (${count(Math.round(opt.fans / (rushMs / 1000)))}/s), ` +
      `${JSON.stringify(Object.fromEntries(grabCodes))}`,
  );
  console.log(
    afterRush.remaining === 0
      ? `SOLD OUT: ${count(opt.units)} units in ${secs(soldOutMs)} after the sale opened (2012: 314 s)`
      : `not sold out: ${count(afterRush.remaining)} units left`,
  );

  // Pay a sample of the holds from the wallet (credited by an operator first).
  const sample = orders.slice(0, Math.min(opt.pay, orders.length));
  const payCodes = new Map<string, number>();
  const p0 = performance.now();
  await http.each(
    sample.length,
    async (k) => {
      const { id, fan } = sample[k];
      const credit = await http.send('POST', `/v1/wallets/${fanId(fan)}/credits`, operator, {
        amountMinor: 199_900,
        reference: `demo-${run}-${fan}`,
      });
      if (credit.status >= 300) return tally(payCodes, `credit ${credit.status}`);
      const paid = await http.send('POST', `/v1/orders/${id}/payment`, fanTokens[fan]);
      tally(payCodes, paid.status === 200 ? 'paid' : `payment ${paid.status}`);
    },
    'payments',
  );
  if (sample.length > 0) {
    console.log(
      `payments: ${sample.length} holds paid from wallets in ${secs(performance.now() - p0)} ` +
        `${JSON.stringify(Object.fromEntries(payCodes))}`,
    );
  }

  // The stats come from the event pipeline (equal to the truth within ~2 s of a change).
  await sleep(2_000);
  const final = await http.json<Drop>('GET', `/v1/drops/${drop.id}`);
  const stats = await http
    .json<Record<string, unknown>>('GET', `/v1/drops/${drop.id}/stats`, operator)
    .catch(() => undefined);
  console.log(
    `final: phase ${final.phase}, remaining ${count(final.remaining)} of ${count(opt.units)}, ` +
      `reservations ${count(final.reservations)}, holds ${count(orders.length)}`,
  );
  if (stats) {
    const pick = ['held', 'paid', 'expired', 'cancelled', 'shares', 'referrals', 'grabAttempts'];
    console.log(
      `stats: ${pick.map((k) => `${k} ${String(stats[k])}`).join(', ')}, rejections ${JSON.stringify(stats.rejections)}`,
    );
  }
  // Deliveries trail the events by a moment (Kafka, then the notifier): wait for the ones due.
  const expected = (payCodes.get('paid') ?? 0) + (afterRush.remaining === 0 ? 1 : 0);
  for (let waited = 0; receiver.verified.size < expected && waited < 30_000; waited += 250) {
    await sleep(250);
  }
  console.log(
    `webhooks: ${count(receiver.verified.size)} deliveries verified of ${count(expected)} due ` +
      `${JSON.stringify(receiver.byType())}, ${receiver.refused} refused`,
  );
  console.log(`watch it: http://127.0.0.1:${new URL(opt.api).port}/ops  (drop ${drop.id})`);
  await receiver.close();
}
