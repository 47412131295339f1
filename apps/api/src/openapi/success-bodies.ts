import { NO_CONTENT, type SuccessBodies } from '@flashdrop/http';
import type { SchemaObject } from '@nestjs/swagger/dist/interfaces/open-api-spec.interface';
import { DropPhases } from '@flashdrop/inventory';
import { OrderStatuses } from '@flashdrop/contracts';

/**
 * What each route answers on success, for /docs/openapi.json (libs/http completeDocument puts
 * each schema on the operation's 2xx responses): what a generated client types its answers with,
 * and what the fuzz pass checks every 2xx answer against (schemathesis
 * response_schema_conformance). One entry per operation, `METHOD path` as the document spells
 * it. What must stay true: a field a route answers with is here, typed as it is answered; a
 * field that may be absent is not `required`. Extra fields are allowed (a client must ignore
 * what it does not know), so adding a field never breaks a client. Every operation has an entry
 * (the document test fails otherwise); a 204 has no body, so its entry says no media type.
 */
const str: SchemaObject = { type: 'string' };
const int: SchemaObject = { type: 'integer' };
const bool: SchemaObject = { type: 'boolean' };
const time: SchemaObject = { type: 'string', format: 'date-time' };
const oneOf = (...values: readonly string[]): SchemaObject => ({
  type: 'string',
  enum: [...values],
});
const list = (items: SchemaObject): SchemaObject => ({ type: 'array', items });
const nullable = (schema: SchemaObject): SchemaObject => ({ ...schema, nullable: true });
const counts: SchemaObject = { type: 'object', additionalProperties: int };
const text = (description: string): SchemaObject => ({ type: 'string', description });
function object(
  required: Record<string, SchemaObject>,
  optional: Record<string, SchemaObject> = {},
): SchemaObject {
  return {
    type: 'object',
    required: Object.keys(required),
    properties: { ...required, ...optional },
  };
}
const csv: SchemaObject = {
  type: 'string',
  description: 'CSV, one header line then one line per row',
};

/** docs/api.md "Drops": a drop as every drops route answers it (libs/inventory toDropView). */
const Drop = object(
  {
    id: str,
    brandId: str,
    title: str,
    sku: str,
    priceMinor: int,
    currency: str,
    quantity: int,
    perUserLimit: int,
    reservationRequired: bool,
    saleStartsAt: time,
    holdSeconds: int,
    allocation: oneOf('first_come', 'draw'),
    shareDiscountMinor: int,
    referralRewardMinor: int,
    phase: oneOf(...DropPhases),
    remaining: int,
    reservations: int,
    createdAt: time,
  },
  {
    reservationOpensAt: time,
    reservationClosesAt: time,
    saleEndsAt: time,
    audienceTier: str,
    groupSize: int,
    groupSeconds: int,
  },
);

/** An order (libs/contracts Order). */
const Order = object(
  {
    id: str,
    dropId: str,
    fanId: str,
    quantity: int,
    amountMinor: int,
    unitPriceMinor: int,
    discountMinor: int,
    currency: str,
    status: oneOf(...OrderStatuses),
    createdAt: time,
    expiresAt: time,
  },
  { paidAt: time, refundedAt: time, groupId: str },
);

/** A group of a group-buy drop (libs/contracts GroupView). */
const Group = object({
  groupId: str,
  dropId: str,
  size: int,
  members: int,
  paidMembers: int,
  expiresAt: time,
  status: oneOf('open', 'complete', 'failed'),
});

/**
 * A drop's stats as analytics answers them and the API passes them through (docs/api.md
 * "Operators"): the contract's fields are required, the dashboard's are optional.
 */
const Stats = object(
  {
    dropId: str,
    quantity: int,
    remaining: int,
    held: int,
    paid: int,
    expired: int,
    cancelled: int,
    refunded: int,
    reservations: int,
    shares: int,
    referrals: int,
    grabAttempts: int,
    rejections: counts,
    revenueMinor: int,
    firstSaleAt: nullable(time),
    soldOutAt: nullable(time),
    generatedAt: time,
  },
  {
    entrants: int,
    winners: int,
    waitlisted: int,
    backfilled: int,
    referralRewardsMinor: int,
    currency: nullable(str),
    priceMinor: int,
    phase: nullable(str),
    title: nullable(str),
    paused: bool,
    acceptedOrders: int,
    paidOrders: int,
    waitlistJoined: int,
    drawnAt: nullable(time),
    walletDebits: int,
    walletDebitedMinor: int,
    refundedOrders: int,
    grouped: int,
    escrowMinor: int,
    groupsCompleted: int,
    groupsFailed: int,
    walletRefunds: int,
    walletRefundedMinor: int,
    sharesByChannel: counts,
    topReferrers: list(object({ referrerId: str, referrals: int })),
    sellThrough: list(object({ at: time, seconds: int, grabbed: int, paid: int })),
    lastEventAt: nullable(time),
  },
);

/**
 * A server-sent event stream (the live routes), frames for as long as the caller reads. The
 * schema is that of each event as an SSE parser reads it (what schemathesis checks every event
 * of a stream against): `data` one JSON frame (the drop's stats, or the fan's standing as GET
 * .../me answers it), `id` the frame's number.
 */
const eventStream = {
  'text/event-stream': object(
    { data: text('One frame, as JSON'), event: str },
    { id: str, retry: int },
  ),
};
const html = { 'text/html': text('An HTML page') };

const Webhook = object(
  { id: str, url: str, events: list(str), createdAt: time },
  { secret: { type: 'string', description: 'Only in the answer that created it' } },
);

const Delivery = object(
  {
    id: str,
    type: str,
    status: oneOf('pending', 'delivered', 'failed'),
    attempts: list(
      object({ attempt: int, at: time, durationMs: int }, { statusCode: int, error: str }),
    ),
    createdAt: time,
  },
  { nextAttemptAt: time, deliveredAt: time },
);

const Allocation = object(
  {
    seq: int,
    at: time,
    kind: oneOf('grab', 'draw', 'backfill'),
    orderId: str,
    fanId: str,
    quantity: int,
    hash: str,
  },
  { fromOrderId: str },
);

export const SUCCESS_BODIES: SuccessBodies = {
  'GET /health/live': object({ status: oneOf('ok') }),
  'GET /health/ready': object(
    { status: oneOf('ok', 'error', 'shutting_down'), details: { type: 'object' } },
    { info: { type: 'object' }, error: { type: 'object' } },
  ),
  'GET /ops': html,
  'GET /ops/report': html,
  'POST /v1/drops': Drop,
  'GET /v1/drops': list(Drop),
  'GET /v1/drops/{id}': Drop,
  'PATCH /v1/drops/{id}': Drop,
  'POST /v1/drops/{id}/pause': Drop,
  'POST /v1/drops/{id}/resume': Drop,
  'POST /v1/drops/{id}/cancel': Drop,
  'POST /v1/drops/{id}/reservations': object({ dropId: str, fanId: str, reservedAt: time }),
  'POST /v1/drops/{id}/purchases': Order,
  'POST /v1/drops/{id}/shares': object({ dropId: str, fanId: str, channel: str, countedAs: str }),
  'POST /v1/drops/{id}/waitlist': object({ dropId: str, fanId: str, position: int }),
  'GET /v1/drops/{id}/me': object(
    {
      dropId: str,
      fanId: str,
      reserved: bool,
      orders: list(Order),
      unitsPending: int,
    },
    {
      waitlistPosition: int,
      drawResult: oneOf('won', 'waitlisted', 'not_entered'),
      nextReleaseAt: time,
    },
  ),
  'GET /v1/drops/{id}/draw': object(
    { dropId: str, algorithm: str, entrants: int },
    { seedCommitment: str, entrantsDigest: str, seed: str, winners: list(str), drawnAt: time },
  ),
  'GET /v1/drops/{id}/draw/entrants': object({ items: list(str) }, { nextCursor: str }),
  'GET /v1/drops/{id}/groups/{groupId}': Group,
  'GET /v1/drops/{id}/stats': Stats,
  'GET /v1/drops/{id}/live': eventStream,
  'GET /v1/drops/{id}/me/live': eventStream,
  'GET /v1/drops/{id}/allocations': object({ items: list(Allocation), head: str }),
  'GET /v1/orders': list(Order),
  'GET /v1/orders/{id}': Order,
  'POST /v1/orders/{id}/cancel': Order,
  'POST /v1/orders/{id}/payment': Order,
  'POST /v1/orders/{id}/refund': Order,
  'GET /v1/drops/{id}/orders': {
    'application/json': object({ items: list({ type: 'object' }) }, { nextCursor: str }),
    'text/csv': csv,
  },
  'GET /v1/drops/{id}/report': { 'application/json': { type: 'object' }, 'text/csv': csv },
  'GET /v1/wallet': object({ fanId: str, balanceMinor: int, currency: str }),
  'GET /v1/wallet/transactions': object(
    {
      items: list(
        object(
          {
            id: str,
            transferId: str,
            kind: str,
            amountMinor: int,
            balanceAfterMinor: int,
            currency: str,
            createdAt: time,
          },
          { reference: str, orderId: str },
        ),
      ),
    },
    { nextCursor: str },
  ),
  'POST /v1/wallets/{fanId}/credits': object({ fanId: str, balanceMinor: int }),
  'POST /v1/webhooks': Webhook,
  'GET /v1/webhooks': list(Webhook),
  'GET /v1/webhooks/{id}/deliveries': object({ items: list(Delivery) }),
  'DELETE /v1/webhooks/{id}': NO_CONTENT,
  'GET /v1/ops/drops': list(
    object({
      id: str,
      title: nullable(str),
      brandId: nullable(str),
      quantity: nullable(int),
      createdAt: nullable(time),
      saleStartsAt: nullable(time),
    }),
  ),
  'GET /v1/ops/webhooks': list(
    object({
      brandId: str,
      webhooks: int,
      pending: int,
      failing: int,
      failed: int,
      delivered: int,
    }),
  ),
};
