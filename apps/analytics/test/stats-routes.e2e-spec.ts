import {
  api,
  apiBaseUrl,
  contractFields,
  eventually,
  readTruth,
  testConfig,
  tokenFor,
  uniqueId,
} from '@flashdrop/testing';
import { Inventory } from '@flashdrop/inventory';
import { connectRedis, RedisClient } from '@flashdrop/persistence';
import { createOpenDrop, mixedBurst, retireOpenDrops } from './sale-traffic';

interface Stats {
  dropId: string;
  [field: string]: unknown;
}

/**
 * The stats and live routes on the public origin (apps/api forwards them to apps/analytics),
 * against the running test stack: its worker relays, its analytics consumes.
 */
describe('GET /v1/drops/:id/stats and /live', () => {
  let redis: RedisClient;
  const brand = uniqueId('brand');
  let dropId: string;
  let inventory: Inventory;
  const operator = tokenFor('operator');

  beforeAll(async () => {
    redis = connectRedis(testConfig());
    inventory = new Inventory(redis);
    dropId = await createOpenDrop(inventory, { brandId: brand, quantity: 50 });
    await mixedBurst(inventory, dropId, 120);
  });

  afterAll(async () => {
    await retireOpenDrops();
    redis.disconnect();
  });

  it('equals the stored truth (operator and the owner brand) once analytics has consumed the burst', async () => {
    const truth = await readTruth(inventory, dropId);
    const started = Date.now();
    const equal = await eventually(async () => {
      const res = await api<Stats>('GET', `/v1/drops/${dropId}/stats`, { token: operator });
      return (
        res.status === 200 && JSON.stringify(contractFields(res.body)) === JSON.stringify(truth)
      );
    }, 10_000);
    expect(equal).toBe(true);
    // How soon is the bench's to measure (a loaded shared box makes any bound here a coin toss).
    console.log(`stats equal to the truth ${Date.now() - started} ms after the burst`);

    const owner = await api<Stats>('GET', `/v1/drops/${dropId}/stats`, {
      token: tokenFor('brand', brand),
    });
    expect(owner.status).toBe(200);
    expect(contractFields(owner.body)).toEqual(truth);
    expect(owner.body.dropId).toBe(dropId);
  }, 30_000);

  const refusals: [string, () => Record<string, string>, number, string][] = [
    ['no token', () => ({}), 401, 'UNAUTHENTICATED'],
    ['a malformed token', () => ({ authorization: 'Bearer nonsense' }), 401, 'UNAUTHENTICATED'],
    ['a fan', () => ({ authorization: `Bearer ${tokenFor('fan')}` }), 403, 'FORBIDDEN'],
    [
      'another brand',
      () => ({ authorization: `Bearer ${tokenFor('brand', uniqueId('other'))}` }),
      404,
      'NOT_FOUND',
    ],
  ];

  it.each(refusals)('stats refuses %s', async (_, headers, status, code) => {
    const res = await api<{ error: string }>('GET', `/v1/drops/${dropId}/stats`, {
      headers: headers(),
    });
    expect(res.status).toBe(status);
    expect(res.body.error).toBe(code);
  });

  it.each(refusals)(
    'live refuses %s before any stream starts',
    async (_, headers, status, code) => {
      const res = await api<{ error: string }>('GET', `/v1/drops/${dropId}/live`, {
        headers: headers(),
      });
      expect(res.status).toBe(status);
      expect(res.body.error).toBe(code);
      expect(res.headers.get('content-type')).toContain('application/json');
    },
  );

  it('an unknown drop is 404 for an operator too', async () => {
    for (const route of ['stats', 'live']) {
      const res = await api<{ error: string }>('GET', `/v1/drops/${uniqueId('nope')}/${route}`, {
        token: operator,
      });
      expect(res.status).toBe(404);
      expect(res.body.error).toBe('NOT_FOUND');
    }
  });

  it('a fan’s token in ?access_token= does not open the live stream either', async () => {
    const res = await api<{ error: string }>(
      'GET',
      `/v1/drops/${dropId}/live?access_token=${tokenFor('fan')}`,
    );
    expect(res.status).toBe(403);
  });

  it('streams snapshots as text/event-stream, with the token in ?access_token=, and keeps sending them while nothing changes', async () => {
    const abort = new AbortController();
    const res = await fetch(`${apiBaseUrl()}/v1/drops/${dropId}/live?access_token=${operator}`, {
      signal: abort.signal,
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/event-stream');
    const reader = res.body!.getReader();
    const decoder = new TextDecoder();
    let text = '';
    const started = Date.now();
    const arrivals: number[] = [];
    const snapshots: string[] = [];
    while (arrivals.length < 4 && Date.now() - started < 10_000) {
      const { value, done } = await reader.read();
      if (done) break;
      text += decoder.decode(value, { stream: true });
      let cut: number;
      while ((cut = text.indexOf('\n\n')) >= 0) {
        const frame = text.slice(0, cut);
        text = text.slice(cut + 2);
        const data = frame.split('\n').find((l) => l.startsWith('data: '));
        if (!data) continue;
        arrivals.push(Date.now());
        const snapshot = JSON.parse(data.slice(6)) as Stats;
        expect(snapshot.dropId).toBe(dropId);
        snapshots.push(JSON.stringify(contractFields(snapshot)));
      }
    }
    abort.abort();
    expect(arrivals.length).toBe(4);
    // The drop stopped changing (the first case saw the stats converge): four frames of one
    // snapshot came anyway. How often is printed, not asserted: timing is noisy on this box.
    expect(new Set(snapshots).size).toBe(1);
    console.log(`live frame gaps (ms): ${arrivals.slice(1).map((t, i) => t - arrivals[i])}`);
  }, 20_000);

  it('serves the dashboard page and Chart.js from the app itself', async () => {
    const page = await api<string>('GET', '/ops');
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toContain('text/html');
    expect(page.body).toContain('/ops/assets/chart.umd.min.js');
    const chart = await api<string>('GET', '/ops/assets/chart.umd.min.js');
    expect(chart.status).toBe(200);
    expect(chart.body).toContain('Chart');
    expect((await api('GET', '/ops/assets/..%2Fpackage.json')).status).toBe(404);
  });
});
