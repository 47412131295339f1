import { isErrorCode } from '@flashdrop/contracts';
import { EventCatalog, EventType, EventVersions } from './event-catalog';

/**
 * A small schema per event type, checked by every consumer before it trusts a payload (a Kafka
 * message is a border like an HTTP body). The mapped type makes the compiler refuse a catalog
 * field without a rule, so the catalog and its schemas cannot drift apart.
 *
 * Unknown extra fields are allowed: adding a field is not a breaking change (a breaking change is
 * a new version, see event-catalog.ts).
 */
export type FieldRule =
  | 'id' // non-empty string up to 200 chars
  | 'text' // string up to 200 chars (may be empty)
  | 'count' // integer >= 0 (units, money in minor units, epoch ms)
  | 'signed' // any safe integer
  | 'code' // an ErrorCode of libs/contracts
  | 'currency'; // 3 upper-case letters

type Rule = FieldRule | { readonly optional: FieldRule };

type SchemaOf<T> = { readonly [K in keyof T]-?: undefined extends T[K] ? Rule : FieldRule };

export const EventSchemas: { readonly [T in EventType]: SchemaOf<EventCatalog[T]> } = {
  'drop.created': {
    dropId: 'id',
    brandId: 'id',
    quantity: 'count',
    priceMinor: 'count',
    currency: 'currency',
  },
  'drop.updated': {
    dropId: 'id',
    brandId: 'id',
    quantity: 'count',
    priceMinor: 'count',
    currency: 'currency',
  },
  'drop.phase_changed': { dropId: 'id', phase: 'id' },
  'drop.paused': { dropId: 'id' },
  'drop.resumed': { dropId: 'id' },
  'drop.cancelled': { dropId: 'id' },
  'reservation.created': { dropId: 'id', fanId: 'id', referrerId: { optional: 'id' } },
  'reservation.counted': { dropId: 'id', count: 'count' },
  'share.recorded': { dropId: 'id', fanId: 'id', channel: 'id' },
  'grab.accepted': {
    dropId: 'id',
    orderId: 'id',
    fanId: 'id',
    quantity: 'count',
    amountMinor: 'count',
    discountMinor: { optional: 'count' },
    expiresAt: 'count',
    remaining: 'count',
    seq: { optional: 'count' },
  },
  'grab.rejected': { dropId: 'id', code: 'code', count: 'count' },
  'hold.expired': {
    dropId: 'id',
    orderId: 'id',
    fanId: 'id',
    quantity: 'count',
    remaining: 'count',
  },
  'hold.cancelled': {
    dropId: 'id',
    orderId: 'id',
    fanId: 'id',
    quantity: 'count',
    remaining: 'count',
  },
  'waitlist.joined': { dropId: 'id', fanId: 'id', position: 'count' },
  'hold.backfilled': {
    dropId: 'id',
    orderId: 'id',
    fanId: 'id',
    quantity: 'count',
    amountMinor: 'count',
    discountMinor: { optional: 'count' },
    expiresAt: 'count',
    fromOrderId: 'id',
    seq: 'count',
    remaining: 'count',
  },
  'units.unparked': { dropId: 'id', quantity: 'count', remaining: 'count' },
  'draw.committed': {
    dropId: 'id',
    seedCommitment: 'id',
    entrants: 'count',
    entrantsDigest: 'id',
  },
  'draw.won': {
    dropId: 'id',
    orderId: 'id',
    fanId: 'id',
    quantity: 'count',
    amountMinor: 'count',
    discountMinor: { optional: 'count' },
    expiresAt: 'count',
    seq: 'count',
    rank: 'count',
    remaining: 'count',
  },
  'draw.waitlisted': { dropId: 'id', count: 'count', fromRank: 'count' },
  'draw.completed': { dropId: 'id', winners: 'count', waitlisted: 'count', seed: 'id' },
  'order.paid': {
    dropId: 'id',
    orderId: 'id',
    fanId: 'id',
    quantity: 'count',
    amountMinor: 'count',
    discountMinor: { optional: 'count' },
    referrerId: { optional: 'id' },
    rewardMinor: { optional: 'count' },
    escrowMinor: { optional: 'count' },
  },
  'order.refunded': {
    dropId: 'id',
    orderId: 'id',
    fanId: 'id',
    quantity: 'count',
    amountMinor: 'count',
    reason: 'text',
    remaining: 'count',
    rewardMinor: { optional: 'count' },
    escrowMinor: { optional: 'count' },
  },
  'order.grouped': {
    dropId: 'id',
    orderId: 'id',
    fanId: 'id',
    quantity: 'count',
    amountMinor: 'count',
    groupId: 'id',
    paidMembers: 'count',
  },
  'order.paying': { dropId: 'id', orderId: 'id', fanId: 'id', attempt: 'count' },
  'order.refunding': { dropId: 'id', orderId: 'id', fanId: 'id', attempt: 'count' },
  'order.refund_declined': { dropId: 'id', orderId: 'id', fanId: 'id', attempt: 'count' },
  'group.completed': {
    dropId: 'id',
    groupId: 'id',
    size: 'count',
    members: 'count',
    amountMinor: 'count',
  },
  'group.failed': {
    dropId: 'id',
    groupId: 'id',
    size: 'count',
    paidMembers: 'count',
    refundedMinor: 'count',
  },
  'wallet.credited': {
    fanId: 'id',
    amountMinor: 'count',
    reference: 'id',
    balanceMinor: 'count',
  },
  'wallet.debited': {
    fanId: 'id',
    orderId: 'id',
    dropId: 'id',
    amountMinor: 'count',
    balanceMinor: 'count',
  },
  'wallet.refunded': {
    fanId: 'id',
    orderId: 'id',
    dropId: 'id',
    amountMinor: 'count',
    balanceMinor: 'count',
  },
};

export function isEventType(value: unknown): value is EventType {
  return typeof value === 'string' && Object.prototype.hasOwnProperty.call(EventVersions, value);
}

function checkRule(rule: FieldRule, value: unknown): boolean {
  switch (rule) {
    case 'id':
      return typeof value === 'string' && value.length > 0 && value.length <= 200;
    case 'text':
      return typeof value === 'string' && value.length <= 200;
    case 'count':
      return Number.isSafeInteger(value) && (value as number) >= 0;
    case 'signed':
      return Number.isSafeInteger(value);
    case 'code':
      return isErrorCode(value);
    case 'currency':
      return typeof value === 'string' && /^[A-Z]{3}$/.test(value);
  }
}

/** The problems with `data` as the data of `type` (empty when it is valid). */
export function validateEventData(type: EventType, data: unknown): string[] {
  if (typeof data !== 'object' || data === null || Array.isArray(data)) {
    return ['data must be an object'];
  }
  const record = data as Record<string, unknown>;
  const problems: string[] = [];
  for (const [field, rule] of Object.entries(EventSchemas[type] as Record<string, Rule>)) {
    const value = record[field];
    if (typeof rule === 'object') {
      if (value !== undefined && value !== null && !checkRule(rule.optional, value)) {
        problems.push(`data.${field} must be ${rule.optional}`);
      }
    } else if (!checkRule(rule, value)) {
      problems.push(`data.${field} must be ${rule}`);
    }
  }
  return problems;
}
