/**
 * Every error code the public API can answer with, in one place (docs/api.md "General").
 * The HTTP status of each code is decided by `httpStatusOf`, whose exhaustive switch makes
 * the compiler refuse a code that has no status.
 */
export const ErrorCodes = [
  'VALIDATION_FAILED',
  'UNAUTHENTICATED',
  'FORBIDDEN',
  'NOT_FOUND',
  'METHOD_NOT_ALLOWED',
  'PAYLOAD_TOO_LARGE',
  'UNSUPPORTED_MEDIA_TYPE',
  'DROP_LOCKED',
  'RESERVATION_NOT_OPEN',
  'RESERVATION_CLOSED',
  'SALE_NOT_STARTED',
  'SALE_ENDED',
  'SALE_PAUSED',
  'SOLD_OUT',
  'LIMIT_REACHED',
  'NOT_RESERVED',
  'TOO_MANY_REQUESTS',
  'INSUFFICIENT_FUNDS',
  'HOLD_EXPIRED',
  'ORDER_CANCELLED',
  'ORDER_PAID',
  'PAYMENT_IN_PROGRESS',
  'IDEMPOTENCY_KEY_REUSED',
  'DRAW_ONLY',
  'NOT_SOLD_OUT',
  'MEMBERS_ONLY',
  'ORDER_NOT_PAID',
  'GROUP_FULL',
  'GROUP_CLOSED',
  'ALREADY_IN_GROUP',
  'SERVICE_UNAVAILABLE',
  'INTERNAL',
] as const;

export type ErrorCode = (typeof ErrorCodes)[number];

export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === 'string' && (ErrorCodes as readonly string[]).includes(value);
}

export function httpStatusOf(code: ErrorCode): number {
  switch (code) {
    case 'VALIDATION_FAILED':
      return 400;
    case 'UNAUTHENTICATED':
      return 401;
    case 'INSUFFICIENT_FUNDS':
      return 402;
    case 'FORBIDDEN':
    case 'NOT_RESERVED':
    case 'MEMBERS_ONLY':
      return 403;
    case 'NOT_FOUND':
      return 404;
    case 'METHOD_NOT_ALLOWED':
      return 405;
    case 'DROP_LOCKED':
    case 'RESERVATION_NOT_OPEN':
    case 'RESERVATION_CLOSED':
    case 'SALE_NOT_STARTED':
    case 'SALE_ENDED':
    case 'SALE_PAUSED':
    case 'SOLD_OUT':
    case 'LIMIT_REACHED':
    case 'HOLD_EXPIRED':
    case 'ORDER_CANCELLED':
    case 'ORDER_PAID':
    case 'PAYMENT_IN_PROGRESS':
    case 'IDEMPOTENCY_KEY_REUSED':
    case 'DRAW_ONLY':
    case 'NOT_SOLD_OUT':
    case 'ORDER_NOT_PAID':
    case 'GROUP_FULL':
    case 'GROUP_CLOSED':
    case 'ALREADY_IN_GROUP':
      return 409;
    case 'PAYLOAD_TOO_LARGE':
      return 413;
    case 'UNSUPPORTED_MEDIA_TYPE':
      return 415;
    case 'TOO_MANY_REQUESTS':
      return 429;
    case 'INTERNAL':
      return 500;
    case 'SERVICE_UNAVAILABLE':
      return 503;
    default: {
      const unhandled: never = code;
      throw new Error(`error code without an HTTP status: ${String(unhandled)}`);
    }
  }
}
