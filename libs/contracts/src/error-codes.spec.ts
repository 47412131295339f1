import { ErrorCodes, httpStatusOf, isErrorCode } from './error-codes';

describe('error codes', () => {
  it.each(ErrorCodes.map((c) => [c]))('%s maps to a 4xx or 5xx status', (code) => {
    const status = httpStatusOf(code);
    expect(status).toBeGreaterThanOrEqual(400);
    expect(status).toBeLessThan(600);
  });

  it('keeps the statuses docs/api.md gives', () => {
    expect(httpStatusOf('VALIDATION_FAILED')).toBe(400);
    expect(httpStatusOf('UNAUTHENTICATED')).toBe(401);
    expect(httpStatusOf('INSUFFICIENT_FUNDS')).toBe(402);
    expect(httpStatusOf('NOT_RESERVED')).toBe(403);
    expect(httpStatusOf('SOLD_OUT')).toBe(409);
    expect(httpStatusOf('MEMBERS_ONLY')).toBe(403);
    expect(httpStatusOf('ORDER_NOT_PAID')).toBe(409);
    expect(httpStatusOf('TOO_MANY_REQUESTS')).toBe(429);
  });

  it('recognises codes', () => {
    expect(isErrorCode('SOLD_OUT')).toBe(true);
    expect(isErrorCode('NOPE')).toBe(false);
  });
});
