import { seedCommitment } from '@flashdrop/fair';
import { connectRedis, RedisClient } from '@flashdrop/persistence';
import {
  api,
  apiBaseUrl,
  createDrop,
  dropBody,
  dropKeys,
  errorOf,
  eventually,
  mapLimit,
  OrderBody,
  redisNow,
  REPO_ROOT,
  setDropTimes,
  testConfig,
  tokenFor,
  uniqueId,
} from '@flashdrop/testing';
import { execFile } from 'node:child_process';
import { createServer, Server } from 'node:http';
import { AddressInfo } from 'node:net';
import { join } from 'node:path';

interface DrawBody {
  dropId: string;
  algorithm: string;
  seedCommitment?: string;
  entrants: number;
  entrantsDigest?: string;
  seed?: string;
  winners?: string[];
  drawnAt?: string;
}

const ENTRANTS = Number(process.env.DRAW_E2E_ENTRANTS ?? 10_000);
const UNITS = Number(process.env.DRAW_E2E_UNITS ?? 1_000);

/** `npm run verify-draw` as a user runs it: exit code and output. */
function verifyDraw(args: string[]): Promise<{ code: number; out: string; err: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [join(REPO_ROOT, 'dist/scripts/cli.js'), 'verify-draw', ...args],
      { timeout: 120_000 },
      (error, out, err) => {
        const code = error ? Number((error as { code?: number }).code ?? 1) : 0;
        resolve({ code, out, err });
      },
    );
  });
}

/**
 * A stand-in for the API that serves what the API serves, except for one thing it rewrites:
 * what a verifier must catch when the published data is not the draw's.
 */
async function tamperingProxy(rewrite: (path: string, body: string) => string): Promise<Server> {
  const server = createServer((req, res) => {
    void (async () => {
      const upstream = await fetch(`${apiBaseUrl()}${req.url}`);
      const text = rewrite(req.url ?? '', await upstream.text());
      res.writeHead(upstream.status, { 'content-type': 'application/json' });
      res.end(text);
    })();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return server;
}
const urlOf = (s: Server) => `http://127.0.0.1:${(s.address() as AddressInfo).port}`;

/**
 * A draw through the running test stack (API.md "Fair launch"): 10,000 entrants for 1,000
 * units, the commitment published before the draw and the seed after, exactly 1,000 winners,
 * reproduced by the verifier command from public data only, refused when an entrant or the
 * seed is flipped; each fan's standing; the stats.
 */
describe(`a draw of ${ENTRANTS} entrants for ${UNITS} units (running stack)`, () => {
  let redis: RedisClient;
  const brand = tokenFor('brand', uniqueId('brand'));
  const fans = Array.from({ length: ENTRANTS }, () => uniqueId('fan'));
  let dropId = '';
  let committed = '';
  let draw: DrawBody;

  beforeAll(async () => {
    redis = connectRedis(testConfig());
    const drop = await createDrop(
      dropBody({ allocation: 'draw', quantity: UNITS, holdSeconds: 600 }),
      brand,
    );
    dropId = drop.id;
    const answers = await mapLimit(fans, 64, (fan) =>
      api('POST', `/v1/drops/${dropId}/reservations`, {
        token: tokenFor('fan', fan),
        body: {},
      }),
    );
    expect(answers.filter((a) => a.status === 201)).toHaveLength(ENTRANTS);
  }, 300_000);
  afterAll(async () => {
    await redis.quit();
  });

  const getDraw = async () => (await api<DrawBody>('GET', `/v1/drops/${dropId}/draw`)).body;

  it('publishes no commitment while reservations are open', async () => {
    const before = await getDraw();
    expect(before).toEqual({
      dropId,
      algorithm: 'fisher-yates-sha256-ctr-v1',
      entrants: ENTRANTS,
    });
  });

  it('commits to a seed when reservations close, without revealing it', async () => {
    // Reservations close now; the sale an hour later (test-only: on the sale clock in Redis).
    const now = (await redisNow(redis)) + 1;
    await setDropTimes(redis, dropId, {
      reservationClosesAt: now,
      saleStartsAt: now + 3_600_000,
    });
    expect(
      await eventually(async () => (await getDraw()).seedCommitment !== undefined, 30_000),
    ).toBe(true);
    const d = await getDraw();
    expect(d.seedCommitment).toMatch(/^[0-9a-f]{64}$/);
    expect(d.entrantsDigest).toMatch(/^[0-9a-f]{64}$/);
    expect(d.entrants).toBe(ENTRANTS);
    expect(d.seed).toBeUndefined();
    expect(d.winners).toBeUndefined();
    committed = d.seedCommitment!;
    // Nothing is handed out before the sale starts.
    expect(await redis.zcard(dropKeys(dropId).waitlist)).toBe(0);
    expect(
      errorOf(
        await api('POST', `/v1/drops/${dropId}/reservations`, {
          token: tokenFor('fan', uniqueId('late')),
          body: {},
        }),
      ),
    ).toBe('RESERVATION_CLOSED');
  }, 60_000);

  it(`draws at saleStartsAt: exactly ${UNITS} winners, each with one hold`, async () => {
    await setDropTimes(redis, dropId, { saleStartsAt: (await redisNow(redis)) + 1 });
    expect(await eventually(async () => (await getDraw()).drawnAt !== undefined, 60_000)).toBe(
      true,
    );
    draw = await getDraw();
    expect(draw.winners).toHaveLength(UNITS);
    expect(new Set(draw.winners).size).toBe(UNITS);
    expect(draw.seedCommitment).toBe(committed);
    expect(seedCommitment(draw.seed!)).toBe(committed);
    const entrants = new Set(fans);
    for (const w of draw.winners!) expect(entrants.has(w)).toBe(true);
    expect(Number(await redis.get(dropKeys(dropId).stock))).toBe(0);
    expect(await redis.zcard(dropKeys(dropId).waitlist)).toBe(ENTRANTS - UNITS);
    const perFan = await redis.hvals(dropKeys(dropId).fans);
    expect(perFan.filter((n) => n === '1')).toHaveLength(UNITS);
    expect(perFan.every((n) => n === '1' || n === '0')).toBe(true);
  }, 120_000);

  it('the verifier command reproduces the winners from public data only', async () => {
    const r = await verifyDraw(['--drop', dropId, '--api', apiBaseUrl()]);
    expect(r.out).toContain('MATCH: the published winners are the draw');
    expect(r.code).toBe(0);
    expect(r.err).toContain(`read ${ENTRANTS.toLocaleString('en-US')} of`);
  }, 120_000);

  it('says no when an entrant or the seed is flipped', async () => {
    const flipEntrant = await tamperingProxy((path, body) => {
      if (!path.includes('/draw/entrants')) return body;
      const page = JSON.parse(body) as { items: string[] };
      if (path.endsWith('/entrants')) page.items[0] = 'fan-0-impostor';
      return JSON.stringify(page);
    });
    const flipSeed = await tamperingProxy((path, body) => {
      if (!path.endsWith('/draw')) return body;
      const d = JSON.parse(body) as DrawBody;
      return JSON.stringify({
        ...d,
        seed: `${d.seed!.slice(0, -1)}${d.seed!.endsWith('0') ? '1' : '0'}`,
      });
    });
    // A seed flipped together with its commitment still draws other winners.
    const flipBoth = await tamperingProxy((path, body) => {
      if (!path.endsWith('/draw')) return body;
      const d = JSON.parse(body) as DrawBody;
      const seed = `x${d.seed!}`;
      return JSON.stringify({ ...d, seed, seedCommitment: seedCommitment(seed) });
    });
    try {
      for (const proxy of [flipEntrant, flipSeed, flipBoth]) {
        const r = await verifyDraw(['--drop', dropId, '--api', urlOf(proxy)]);
        expect(r.out).toContain('MISMATCH');
        expect(r.code).toBe(1);
      }
    } finally {
      for (const s of [flipEntrant, flipSeed, flipBoth]) s.close();
    }
  }, 240_000);

  it('answers --help, and refuses an unknown flag or a missing drop', async () => {
    const help = await verifyDraw(['--help']);
    expect([help.code, help.out]).toEqual([
      0,
      expect.stringContaining('usage: npm run verify-draw'),
    ]);
    const unknown = await verifyDraw(['--drop', dropId, '--seed', 'x']);
    expect(unknown.code).toBe(2);
    expect(unknown.err).toContain("Unknown option '--seed'");
    expect((await verifyDraw([])).code).toBe(2);
  }, 60_000);

  it('pages the entrants as entrantsDigest covers them', async () => {
    const items: string[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const q = cursor === undefined ? '' : `?cursor=${cursor}`;
      const page = (
        await api<{ items: string[]; nextCursor?: string }>(
          'GET',
          `/v1/drops/${dropId}/draw/entrants${q}`,
        )
      ).body;
      items.push(...page.items);
      cursor = page.nextCursor;
      pages++;
    } while (cursor !== undefined);
    expect(pages).toBe(Math.ceil(ENTRANTS / 1000));
    expect(items).toEqual([...fans].sort());
    const bad = await api('GET', `/v1/drops/${dropId}/draw/entrants?cursor=abc`);
    expect(bad.status).toBe(400);
  });

  it('tells each fan where they stand: won, waitlisted (with a place), not entered', async () => {
    const standing = (fan: string) =>
      api<{ drawResult?: string; waitlistPosition?: number; orders: OrderBody[] }>(
        'GET',
        `/v1/drops/${dropId}/me`,
        { token: tokenFor('fan', fan) },
      );
    const winner = (await standing(draw.winners![0])).body;
    expect(winner.drawResult).toBe('won');
    expect(winner.orders).toHaveLength(1);
    expect(winner.orders[0]).toMatchObject({ status: 'held', quantity: 1 });
    const winners = new Set(draw.winners);
    const losers = fans.filter((f) => !winners.has(f));
    const places = await Promise.all(
      losers.slice(0, 50).map(async (f) => (await standing(f)).body),
    );
    for (const p of places) {
      expect(p.drawResult).toBe('waitlisted');
      expect(p.waitlistPosition).toBeGreaterThanOrEqual(1);
      expect(p.waitlistPosition).toBeLessThanOrEqual(ENTRANTS - UNITS);
      expect(p.orders).toEqual([]);
    }
    expect(new Set(places.map((p) => p.waitlistPosition)).size).toBe(50);
    expect((await standing(uniqueId('outsider'))).body.drawResult).toBe('not_entered');
  });

  it('a first-come drop has no draw: 404', async () => {
    const drop = await createDrop(dropBody());
    expect((await api('GET', `/v1/drops/${drop.id}/draw`)).status).toBe(404);
    expect((await api('GET', `/v1/drops/${drop.id}/draw/entrants`)).status).toBe(404);
    expect((await api('GET', `/v1/drops/d000000000000/draw`)).status).toBe(404);
  });

  it('stats count the entrants, winners and the waitlist', async () => {
    const stats = async () =>
      (
        await api<Record<string, number>>('GET', `/v1/drops/${dropId}/stats`, {
          token: tokenFor('operator'),
        })
      ).body;
    expect(
      await eventually(async () => {
        const s = await stats();
        return s.entrants === ENTRANTS && s.winners === UNITS && s.waitlisted === ENTRANTS - UNITS;
      }, 30_000),
    ).toBe(true);
    expect((await stats()).held).toBe(UNITS);
  }, 60_000);
});
