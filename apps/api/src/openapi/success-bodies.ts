import type { SuccessBodies } from '@flashdrop/http';
import type { SchemaObject } from '@nestjs/swagger/dist/interfaces/open-api-spec.interface';
import { DropPhases } from '@flashdrop/inventory';

/**
 * What each route answers on success, for /docs/openapi.json (libs/http completeDocument puts
 * each schema on the operation's 2xx responses): what a generated client types its answers with,
 * and what the fuzz pass checks every 2xx answer against (schemathesis
 * response_schema_conformance). One entry per operation, `METHOD path` as the document spells
 * it. What must stay true: a field a route answers with is here, typed as it is answered; a
 * field that may be absent is not `required`. Extra fields are allowed (a client must ignore
 * what it does not know), so adding a field never breaks a client. Routes without an entry:
 * see UNDESCRIBED.
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
    phase: oneOf(...DropPhases),
    remaining: int,
    reservations: int,
    createdAt: time,
  },
  { reservationOpensAt: time, reservationClosesAt: time, saleEndsAt: time, audienceTier: str },
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
    status: str,
    createdAt: time,
    expiresAt: time,
  },
  { paidAt: time, refundedAt: time },
);

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

/**
 * Operations whose success is documented without a body schema here, and why (the document
 * test requires every other operation's 2xx to have one).
 */
export const UNDESCRIBED: Readonly<Record<string, string>> = {
  'GET /health/live': 'a probe: its body is for people',
  'GET /health/ready': 'a probe: its body is for people',
  'GET /v1/drops/{id}/stats': "analytics' answer, passed through",
  'GET /v1/ops/drops': "analytics' answer, passed through",
  'GET /v1/drops/{id}/live': 'a text/event-stream',
  'GET /v1/drops/{id}/me/live': 'a text/event-stream',
  'GET /ops': 'an HTML page',
  'GET /ops/report': 'an HTML page',
  'DELETE /v1/webhooks/{id}': '204: no body',
};
