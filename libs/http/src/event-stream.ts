import { FastifyReply, FastifyRequest } from 'fastify';

/**
 * A server-sent event stream on a Fastify reply: how every live route (a drop's stats in
 * analytics, a fan's standing in the API) opens, feeds and ends its stream, so the bounds the
 * contract promises hold on each of them the same way:
 * - a reader more than `maxUnreadBytes` behind is dropped (the connection destroyed), never
 *   buffered for: a client that stops reading would otherwise make the process hold every frame
 *   for it. EventSource reconnects and starts from a fresh snapshot;
 * - the stream ends when the caller's token expires, with an `expired` event in the contract's
 *   error shape (a reconnect needs a valid token). Tokens may live longer than setTimeout's
 *   longest delay (about 24.8 days), so the wait is taken in steps: a single timer would fire at
 *   once and cut a long-lived token's stream on open;
 * - `onEnd` runs exactly once, with why it ended, whatever ended it (expiry, a slow reader, the
 *   client going away). Refusals (404, 429, 503) belong before this, as ordinary error bodies.
 */
export type EventStreamEnd = 'slow_reader' | 'token_expired' | 'closed';

/**
 * What a reader may leave unread before it is dropped: a few dozen frames of either stream. Only
 * what the kernel's socket buffers could not take counts, so a reader that keeps up never
 * comes near it.
 */
export const EVENT_STREAM_MAX_UNREAD_BYTES = 256 * 1024;

export interface EventStreamOptions {
  /** Bytes a reader may leave unread before it is dropped (EVENT_STREAM_MAX_UNREAD_BYTES). */
  readonly maxUnreadBytes?: number;
  /** When the caller's token expires (epoch ms): the stream ends then. */
  readonly endsAtMs: number;
  readonly onEnd: (reason: EventStreamEnd) => void;
}

export interface EventStream {
  /** Sends one frame (a whole `event:`/`data:` block), or drops a reader this far behind. */
  write(frame: string): void;
}

/** setTimeout's longest delay; a longer wait is taken in steps. */
const MAX_TIMER_MS = 2 ** 31 - 1;
const EXPIRED_FRAME =
  'event: expired\ndata: {"error":"UNAUTHENTICATED","message":"token expired"}\n\n';

export function openEventStream(
  request: FastifyRequest,
  reply: FastifyReply,
  options: EventStreamOptions,
): EventStream {
  const maxUnreadBytes = options.maxUnreadBytes ?? EVENT_STREAM_MAX_UNREAD_BYTES;
  reply.hijack();
  const raw = reply.raw;
  raw.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache, no-transform',
    connection: 'keep-alive',
    'x-accel-buffering': 'no',
    'x-request-id': String(request.id),
  });
  raw.write('retry: 1000\n\n');

  let reason: EventStreamEnd = 'closed';
  let expiry: NodeJS.Timeout | undefined;
  const endAtExpiry = () => {
    const left = options.endsAtMs - Date.now();
    if (left > 0) {
      expiry = setTimeout(endAtExpiry, Math.min(left, MAX_TIMER_MS));
      return;
    }
    reason = 'token_expired';
    raw.end(EXPIRED_FRAME);
  };
  endAtExpiry();
  // The response's 'close': it ended (expiry), was destroyed (slow reader) or its connection
  // went away; exactly once per response.
  raw.once('close', () => {
    clearTimeout(expiry);
    options.onEnd(reason);
  });

  return {
    write: (frame) => {
      if (raw.writableEnded || raw.destroyed) return;
      if (raw.writableLength <= maxUnreadBytes) {
        raw.write(frame);
        return;
      }
      reason = 'slow_reader';
      raw.destroy();
    },
  };
}
