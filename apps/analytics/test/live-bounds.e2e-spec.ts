import { signToken } from '@flashdrop/auth';
import {
  api,
  apiBaseUrl,
  createDrop,
  errorOf,
  eventually,
  grabVia,
  openDropBody,
  soakRounds,
  SseClient,
  testConfig,
  tokenFor,
  uniqueId,
} from '@flashdrop/testing';
import { connect, Socket } from 'node:net';

/**
 * The live streams are bounded (issue 11): streams per caller (LIVE_STREAMS_PER_CALLER, 8) and
 * per analytics process (LIVE_STREAMS_MAX: 40 in the test profile), a reader that stops reading
 * is dropped instead of buffered for, and a stream ends when its token expires.
 */
describe('live stream bounds (running stack)', () => {
  const config = testConfig();
  const liveUrl = (dropId: string, token: string) =>
    `${apiBaseUrl()}/v1/drops/${dropId}/live?access_token=${token}`;
  const opened: SseClient<unknown>[] = [];
  afterEach(() => {
    for (const s of opened.splice(0)) s.close();
  });

  async function open(dropId: string, token: string) {
    const s = await SseClient.open<unknown>(liveUrl(dropId, token));
    opened.push(s);
    return s;
  }

  /** A gauge or counter of analytics' /metrics (0 when absent). */
  async function metric(line: string): Promise<number> {
    const text = await (
      await fetch(`http://127.0.0.1:${config.ANALYTICS_HTTP_PORT}/metrics`)
    ).text();
    const hit = text.split('\n').find((l) => l.startsWith(`${line} `));
    return hit ? Number(hit.slice(line.length + 1)) : 0;
  }
  const openStreams = () => metric('live_streams_open');

  it('one caller past 8 streams gets 429 with Retry-After; others are served; a closed stream frees a place', async () => {
    const drop = await createDrop(openDropBody());
    const operator = tokenFor('operator', uniqueId('op'));
    for (let i = 0; i < 8; i++) await open(drop.id, operator);
    const refused = await api('GET', `/v1/drops/${drop.id}/live?access_token=${operator}`);
    expect(refused.status).toBe(429);
    expect(errorOf(refused)).toBe('TOO_MANY_REQUESTS');
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    await open(drop.id, tokenFor('operator', uniqueId('op')));
    opened[0].close();
    expect(
      await eventually(async () => {
        const s = await SseClient.open<unknown>(liveUrl(drop.id, operator)).catch(() => undefined);
        if (s) opened.push(s);
        return s !== undefined;
      }, 10_000),
    ).toBe(true);
  }, 30_000);

  it('past LIVE_STREAMS_MAX streams in all, a new one gets 503 with Retry-After', async () => {
    const drop = await createDrop(openDropBody());
    expect(await eventually(async () => (await openStreams()) === 0, 10_000)).toBe(true);
    const max = Number(config.LIVE_STREAMS_MAX);
    for (let i = 0; i < max; i++) {
      await open(drop.id, tokenFor('operator', `op-many-${Math.floor(i / 4)}-${uniqueId('x')}`));
    }
    const refused = await api(
      'GET',
      `/v1/drops/${drop.id}/live?access_token=${tokenFor('operator', uniqueId('op'))}`,
    );
    expect(refused.status).toBe(503);
    expect(errorOf(refused)).toBe('SERVICE_UNAVAILABLE');
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    for (const s of opened.splice(0)) s.close();
    expect(await eventually(async () => (await openStreams()) === 0, 10_000)).toBe(true);
  }, 60_000);

  it('a stream ends when its token expires', async () => {
    const drop = await createDrop(openDropBody());
    const shortLived = signToken(config.JWT_SECRET, { sub: uniqueId('op'), role: 'operator' }, 3);
    const res = await fetch(liveUrl(drop.id, shortLived));
    expect(res.status).toBe(200);
    const started = Date.now();
    const text = await res.text(); // resolves only when the server ends the stream
    expect(Date.now() - started).toBeLessThan(15_000);
    expect(text).toContain('event: expired');
    expect(text).toContain('data: {');
  }, 30_000);

  // The kernel's socket buffers (up to 4 MiB of send buffer on loopback) fill before this
  // process buffers anything, at the few KiB a second of frames a drop sends: minutes. So this
  // one runs in `npm run test:soak` only (SOAK_ROUNDS > 1).
  const soakIt = soakRounds() > 1 ? it : it.skip;
  soakIt(
    'a reader that stops reading is dropped; one that reads keeps its frames',
    async () => {
      const drop = await createDrop(openDropBody({ quantity: 1_000_000, perUserLimit: 1 }));
      const operator = tokenFor('operator', uniqueId('op'));
      const before = await metric('live_streams_ended_total{reason="slow_reader"}');
      const reader = await open(drop.id, tokenFor('operator', uniqueId('op')));
      // A raw connection straight to analytics that sends its request and never reads again.
      const stalled: Socket = connect(config.ANALYTICS_HTTP_PORT, '127.0.0.1');
      await new Promise((r) => stalled.once('connect', r));
      stalled.pause();
      stalled.write(
        `GET /v1/drops/${drop.id}/live HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${operator}\r\n\r\n`,
      );
      // Changes on the drop, so frames go out about ten times a second.
      let changing = true;
      const traffic = (async () => {
        while (changing) {
          await Promise.all([
            ...Array.from({ length: 20 }, () => grabVia(drop.id, tokenFor('fan', uniqueId('fan')))),
            new Promise((r) => setTimeout(r, 100)),
          ]);
        }
      })();
      try {
        expect(
          await eventually(
            async () => (await metric('live_streams_ended_total{reason="slow_reader"}')) > before,
            420_000,
            1000,
          ),
        ).toBe(true);
        const frames = reader.frames;
        expect(await eventually(async () => reader.frames > frames + 2, 10_000)).toBe(true);
      } finally {
        changing = false;
        await traffic;
        stalled.destroy();
      }
    },
    480_000,
  );
});
