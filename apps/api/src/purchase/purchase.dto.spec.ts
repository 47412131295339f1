import { parseIdempotencyKey } from '@flashdrop/http';
import { parsePurchaseBody } from './purchase.dto';

describe('the grab body, checked by hand', () => {
  it.each([undefined, null, '', {}])('defaults quantity to 1 for %p', (body) => {
    expect(parsePurchaseBody(body)).toEqual({ quantity: 1 });
  });
  it('takes a quantity of 1..100', () => {
    expect(parsePurchaseBody({ quantity: 2 })).toEqual({ quantity: 2 });
    expect(parsePurchaseBody({ quantity: 100 })).toEqual({ quantity: 100 });
  });
  it.each([
    [{ quantity: 0 }, ['quantity']],
    [{ quantity: 101 }, ['quantity']],
    [{ quantity: 1.5 }, ['quantity']],
    [{ quantity: '1' }, ['quantity']],
    [{ quantity: null }, ['quantity']],
    [{ qty: 1 }, ['qty']],
    [{ quantity: -1, extra: true }, ['quantity', 'extra']],
    [[1], ['body']],
    ['text', ['body']],
    [5, ['body']],
  ])('refuses %p', (body, fields) => {
    const r = parsePurchaseBody(body);
    expect(r).toMatchObject({ error: 'VALIDATION_FAILED' });
    expect('details' in r && r.details?.map((d) => d.field)).toEqual(fields);
  });
  it('checks the Idempotency-Key header', () => {
    expect(parseIdempotencyKey(undefined)).toBeUndefined();
    expect(parseIdempotencyKey('abc-123')).toBe('abc-123');
    expect(parseIdempotencyKey('')).toMatchObject({ error: 'VALIDATION_FAILED' });
    expect(parseIdempotencyKey('a b')).toMatchObject({ error: 'VALIDATION_FAILED' });
    expect(parseIdempotencyKey('x'.repeat(129))).toMatchObject({ error: 'VALIDATION_FAILED' });
  });
});
