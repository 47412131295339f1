import { HttpDrawSource, verifyDraw } from '@flashdrop/fair';
import { performance } from 'node:perf_hooks';
import { Traffic } from './demo-traffic';

export interface DrawDemoOptions {
  readonly entrants: number;
  readonly units: number;
  /** Reservations per second measured just before (sizes the window). */
  readonly reservationRate: number;
  readonly api: string;
  readonly run: string;
  readonly fanToken: (sub: string) => string;
  readonly brand: string;
  readonly operator: string;
}

interface DrawView {
  seedCommitment?: string;
  entrants: number;
  winners?: string[];
  drawnAt?: string;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const count = (n: number) => n.toLocaleString('en-US');

/**
 * The phone sale as a draw (API.md "Fair launch"): every entrant reserves, the window closes
 * and the worker commits to a secret seed (its SHA-256 is public from then on), the sale starts
 * and the worker draws; the demo then checks the draw from public data as anyone could, and a
 * tenth of the winners let their hold go, each unit passing to the next fan in line.
 */
export async function drawDemo(http: Traffic, o: DrawDemoOptions): Promise<void> {
  console.log(
    `\ndraw: a phone drop of ${count(o.units)} units by draw among ${count(o.entrants)} entrants`,
  );
  const fanId = (i: number) => `demo-${o.run}-draw-${i}`;
  const windowMs = Math.max(
    8_000,
    Math.ceil((o.entrants / (o.reservationRate * 0.9)) * 1000) + 2_000,
  );
  const opensAt = Date.now() + 1_000;
  const closesAt = opensAt + windowMs;
  const saleAt = closesAt + 5_000;
  const drop = await http.json<{ id: string }>('POST', '/v1/drops', o.brand, {
    title: 'Demo phone by draw',
    sku: `PHONE-DRAW-${o.run}`,
    priceMinor: 199_900,
    quantity: o.units,
    allocation: 'draw',
    reservationOpensAt: new Date(opensAt).toISOString(),
    reservationClosesAt: new Date(closesAt).toISOString(),
    saleStartsAt: new Date(saleAt).toISOString(),
    holdSeconds: 600,
  });
  await sleep(Math.max(0, opensAt - Date.now() + 50));
  const r0 = performance.now();
  let reserved = 0;
  await http.each(o.entrants, async (i) => {
    const res = await http.send(
      'POST',
      `/v1/drops/${drop.id}/reservations`,
      o.fanToken(fanId(i)),
      {},
    );
    if (res.status === 201) reserved++;
  });
  console.log(
    `draw: ${count(reserved)} entrants reserved in ${((performance.now() - r0) / 1000).toFixed(1)} s`,
  );

  const view = () => http.json<DrawView>('GET', `/v1/drops/${drop.id}/draw`);
  const until = async (test: (v: DrawView) => boolean, seconds: number) => {
    const deadline = Date.now() + seconds * 1000;
    for (;;) {
      const v = await view();
      if (test(v) || Date.now() > deadline) return v;
      await sleep(100);
    }
  };
  await sleep(Math.max(0, closesAt - Date.now()));
  const committed = await until((v) => v.seedCommitment !== undefined, 120);
  console.log(
    `draw: reservations closed; the seed's SHA-256 is published before the draw: ${committed.seedCommitment ?? '(not yet)'}`,
  );
  const drawn = await until((v) => v.drawnAt !== undefined, 600);
  if (!drawn.drawnAt) {
    console.log('draw: not drawn within 10 minutes (see the worker log)');
    return;
  }
  const winners = drawn.winners ?? [];
  console.log(
    `draw: drawn ${((Date.parse(drawn.drawnAt) - saleAt) / 1000).toFixed(1)} s after the sale opened: ` +
      `${count(winners.length)} winners hold a unit, ${count(drawn.entrants - winners.length)} fans wait in line`,
  );
  const verdict = await verifyDraw(new HttpDrawSource(o.api, drop.id));
  console.log(
    `draw: recomputed from public data: ${verdict.verdict === 'match' ? 'MATCH' : verdict.verdict.toUpperCase()} ` +
      `(check it yourself: npm run verify-draw -- --drop ${drop.id} --api ${o.api})`,
  );

  // A tenth of the winners let their hold go: each unit passes down the line at once.
  const releasing = winners.slice(0, Math.max(1, Math.floor(winners.length / 10)));
  await http.each(releasing.length, async (rank) => {
    await http.send(
      'POST',
      `/v1/orders/${drop.id}-w${String(rank).padStart(15, '0')}/cancel`,
      o.fanToken(releasing[rank]),
    );
  });
  await sleep(2_000);
  const stats = await http
    .json<Record<string, number>>('GET', `/v1/drops/${drop.id}/stats`, o.operator)
    .catch(() => undefined);
  if (stats) {
    console.log(
      `draw: ${count(releasing.length)} winners cancelled; stats: entrants ${count(stats.entrants)}, ` +
        `winners ${count(stats.winners)}, waitlisted ${count(stats.waitlisted)}, ` +
        `backfilled ${count(stats.backfilled)}, held ${count(stats.held)}`,
    );
  }
  console.log(`draw: the allocation log: ${o.api}/v1/drops/${drop.id}/allocations`);
}
