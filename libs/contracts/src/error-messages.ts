import { ErrorCode } from './error-codes';

/**
 * The message each refusal carries unless its thrower knows better (docs/api.md "General": clients
 * branch on `error`, people read `message`): one spelling per code, beside the codes. The mapped
 * type makes the compiler refuse a code without its message.
 */
export const ErrorMessages: { readonly [C in ErrorCode]: string } = {
  VALIDATION_FAILED: 'request is invalid',
  UNAUTHENTICATED: 'a valid bearer token is required',
  FORBIDDEN: 'this route is not for your role',
  NOT_FOUND: 'no such drop or order',
  METHOD_NOT_ALLOWED: 'this path does not serve this method',
  PAYLOAD_TOO_LARGE: 'request body too large',
  UNSUPPORTED_MEDIA_TYPE: 'unsupported content type',
  DROP_LOCKED: 'the drop can no longer be changed',
  RESERVATION_NOT_OPEN: 'reservations are not open yet',
  RESERVATION_CLOSED: 'reservations are closed',
  SALE_NOT_STARTED: 'the sale has not started',
  SALE_ENDED: 'the sale has ended',
  SALE_PAUSED: 'the sale is paused',
  SOLD_OUT: 'sold out',
  LIMIT_REACHED: 'you hold the most units a fan may buy',
  NOT_RESERVED: 'this drop needs a reservation',
  TOO_MANY_REQUESTS: 'too many grabs; slow down',
  INSUFFICIENT_FUNDS: 'the wallet balance is too low',
  HOLD_EXPIRED: 'the hold has expired',
  ORDER_CANCELLED: 'the order is cancelled',
  ORDER_PAID: 'the order is paid',
  PAYMENT_IN_PROGRESS: 'a payment for this order is in progress',
  IDEMPOTENCY_KEY_REUSED: 'this idempotency key was used for another request',
  DRAW_ONLY: 'this drop is sold by draw',
  NOT_SOLD_OUT: 'the drop is not sold out',
  MEMBERS_ONLY: 'this drop is for members of another tier',
  ORDER_NOT_PAID: 'only a paid order can be refunded',
  GROUP_FULL: 'the group has as many members as its size',
  GROUP_CLOSED: 'the group is no longer open',
  ALREADY_IN_GROUP: 'the fan already holds a seat in this group',
  SERVICE_UNAVAILABLE: 'a service this needs is unavailable; try again shortly',
  INTERNAL: 'internal error; quote the errorId when reporting it',
};

/** NOT_FOUND as said of one kind of thing (another owner's thing reads as absent too). */
export const NotFoundMessages = {
  drop: 'no such drop',
  order: 'no such order',
  webhook: 'no such webhook',
  group: 'no such group',
} as const;

/** TOO_MANY_REQUESTS as said of what one caller sent too much of (each has its own bound). */
export const TooManyMessages = {
  grabs: ErrorMessages.TOO_MANY_REQUESTS,
  cancels: 'too many cancels; slow down',
  shares: 'too many shares; slow down',
  liveStreams: 'too many live streams of yours; close one first',
} as const;

/** SERVICE_UNAVAILABLE as said of a process that is at one of its bounds (not a server away). */
export const AtCapacityMessages = {
  requests: 'the service is at capacity; try again shortly',
  liveStreams: 'too many live streams; try again shortly',
  replication:
    'the write is done but its replicas did not confirm it in time; retry with the same Idempotency-Key',
} as const;
