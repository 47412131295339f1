import Fastify, { FastifyInstance } from 'fastify';
import { connect } from 'node:net';
import { EventStream, EventStreamEnd, openEventStream } from './event-stream';

/**
 * openEventStream on a real socket: the head and first frame, the end at the token's expiry
 * (with the `expired` event), a long-lived token's stream kept open (setTimeout alone would fire
 * at once past ~24.8 days), and a reader that stops reading dropped, each with its reason, once.
 */
describe('openEventStream', () => {
  let app: FastifyInstance;
  let base: string;
  let endsAtMs = 0;
  let maxUnreadBytes: number | undefined;
  const streams: EventStream[] = [];
  const ends: EventStreamEnd[] = [];

  beforeAll(async () => {
    app = Fastify();
    app.get('/live', (request, reply) => {
      streams.push(
        openEventStream(request, reply, { endsAtMs, maxUnreadBytes, onEnd: (r) => ends.push(r) }),
      );
    });
    base = await app.listen({ host: '127.0.0.1', port: 0 });
  });
  afterAll(() => app.close());
  beforeEach(() => {
    streams.length = 0;
    ends.length = 0;
    maxUnreadBytes = undefined;
  });

  const endsSoon = async () => {
    for (let i = 0; i < 100 && ends.length === 0; i++) await new Promise((r) => setTimeout(r, 20));
  };

  it('answers 200 as an event stream, then ends with `expired` when the token expires', async () => {
    endsAtMs = Date.now() + 300;
    const res = await fetch(`${base}/live`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
    expect(res.headers.get('cache-control')).toBe('no-cache, no-transform');
    streams[0].write('data: {"n":1}\n\n');
    const text = await res.text(); // resolves when the server ends the stream
    expect(text).toBe(
      'retry: 1000\n\ndata: {"n":1}\n\nevent: expired\ndata: {"error":"UNAUTHENTICATED","message":"token expired"}\n\n',
    );
    await endsSoon();
    expect(ends).toEqual(['token_expired']);
  });

  it('keeps a token that outlives one timer (30 days) open, and ends once when the client goes', async () => {
    endsAtMs = Date.now() + 30 * 24 * 3600 * 1000;
    const controller = new AbortController();
    const res = await fetch(`${base}/live`, { signal: controller.signal });
    const reader = res.body!.getReader();
    await reader.read(); // the retry line
    await new Promise((r) => setTimeout(r, 200));
    streams[0].write('data: {"n":2}\n\n');
    expect(new TextDecoder().decode((await reader.read()).value)).toBe('data: {"n":2}\n\n');
    expect(ends).toEqual([]);
    controller.abort();
    await endsSoon();
    expect(ends).toEqual(['closed']);
  });

  it('drops a reader that stops reading instead of buffering for it', async () => {
    endsAtMs = Date.now() + 60_000;
    maxUnreadBytes = 64 * 1024;
    const socket = connect(Number(new URL(base).port), '127.0.0.1');
    await new Promise((r) => socket.once('connect', r));
    socket.pause(); // never reads: the kernel's buffers fill, then the response's own
    socket.write('GET /live HTTP/1.1\r\nHost: x\r\n\r\n');
    for (let i = 0; i < 100 && streams.length === 0; i++)
      await new Promise((r) => setTimeout(r, 20));
    const frame = `data: ${'x'.repeat(64 * 1024)}\n\n`;
    // Far more than loopback's socket buffers take (a few MiB), in steps so 'close' can land.
    for (let i = 0; i < 2_000 && ends.length === 0; i++) {
      streams[0].write(frame);
      if (i % 50 === 0) await new Promise((r) => setImmediate(r));
    }
    await endsSoon();
    expect(ends).toEqual(['slow_reader']);
    socket.destroy();
  });
});
