import { EventCatalog, EventType } from '@flashdrop/events';

/** The events a brand may subscribe a webhook to (docs/api.md "Brands' fulfilment"). */
export const WEBHOOK_EVENT_TYPES = [
  'order.paid',
  'order.refunded',
  'order.expired',
  'order.cancelled',
  'drop.sold_out',
  'group.completed',
  'group.failed',
] as const;

export type WebhookEventType = (typeof WEBHOOK_EVENT_TYPES)[number];

export function isWebhookEventType(value: unknown): value is WebhookEventType {
  return typeof value === 'string' && (WEBHOOK_EVENT_TYPES as readonly string[]).includes(value);
}

/** What a delivery's `data` is: the Order, the Drop or the group the event is about. */
export type WebhookSubject =
  | { readonly kind: 'order'; readonly orderId: string; readonly status: string }
  | { readonly kind: 'drop' }
  | { readonly kind: 'group'; readonly groupId: string; readonly status: 'complete' | 'failed' };

/** A published event as a webhook event: its type and what its `data` shows. */
export interface WebhookMapping {
  readonly type: WebhookEventType;
  readonly subject: WebhookSubject;
}

type Source<T extends EventType> = (data: EventCatalog[T]) => WebhookMapping | undefined;

const order =
  (type: WebhookEventType, status: string) =>
  (data: { orderId: string }): WebhookMapping => ({
    type,
    subject: { kind: 'order', orderId: data.orderId, status },
  });

/**
 * Which published event (libs/events) becomes which webhook event: one row per source. An order's status is the one the event moved it to, so a
 * later change (a refund after a payment) never rewrites what an earlier delivery says.
 */
export const WEBHOOK_SOURCES: { readonly [T in EventType]?: Source<T> } = {
  'order.paid': order('order.paid', 'paid'),
  'order.refunded': order('order.refunded', 'refunded'),
  'hold.expired': order('order.expired', 'expired'),
  'hold.cancelled': order('order.cancelled', 'cancelled'),
  'group.completed': (data) => ({
    type: 'group.completed',
    subject: { kind: 'group', groupId: data.groupId, status: 'complete' },
  }),
  'group.failed': (data) => ({
    type: 'group.failed',
    subject: { kind: 'group', groupId: data.groupId, status: 'failed' },
  }),
  'drop.phase_changed': (data) =>
    data.phase === 'sold_out' ? { type: 'drop.sold_out', subject: { kind: 'drop' } } : undefined,
};

/** The webhook event a published event becomes, if any. */
export function webhookMappingOf(type: EventType, data: unknown): WebhookMapping | undefined {
  const source = WEBHOOK_SOURCES[type] as ((d: unknown) => WebhookMapping | undefined) | undefined;
  return source?.(data);
}

/**
 * A delivery's id, the same on every retry and for every webhook the event goes to: derived
 * one-to-one from the published event's id (`<dropId>:<stream entry id>`), so re-reading an
 * event from Kafka finds the delivery already recorded.
 */
export function deliveryIdOf(eventId: string): string {
  return `evt_${eventId.replace(':', '_')}`;
}

/**
 * `seq`: one drop's events numbered in the order they happened. Every drop-scoped event is an
 * entry of the drop's outbox stream, whose ids (`<ms>-<n>`, ms from Redis TIME) are ordered;
 * seq packs one into a safe integer: (ms - 2026-01-01) * 2^12 + n, exact while n < 4096, i.e.
 * fewer than 4,096 events of one drop in one millisecond (a Redis runs ~100 scripts per ms), and
 * until the year 2095. Answers undefined for an id that is not a stream entry's.
 */
export function seqOfEventId(eventId: string): number | undefined {
  const m = /:(\d+)-(\d+)$/.exec(eventId);
  if (!m) return undefined;
  const ms = Number(m[1]) - SEQ_EPOCH_MS;
  const n = Math.min(Number(m[2]), SEQ_PER_MS - 1);
  if (ms < 0) return n;
  const seq = ms * SEQ_PER_MS + n;
  return Number.isSafeInteger(seq) ? seq : undefined;
}

const SEQ_EPOCH_MS = Date.UTC(2026, 0, 1);
const SEQ_PER_MS = 4096;
