import { decodeOrderCursor, encodeOrderCursor } from './order-cursor';

describe('the export cursor', () => {
  it('round-trips a storage position', () => {
    for (const seq of [1, 42, 1_000_000, Number.MAX_SAFE_INTEGER]) {
      expect(decodeOrderCursor(encodeOrderCursor(seq))).toBe(seq);
    }
  });

  it.each([
    ['empty', ''],
    ['not base64url', 'a+b/c='],
    ['another prefix', Buffer.from('x1:5').toString('base64url')],
    ['no digits', Buffer.from('o1:').toString('base64url')],
    ['zero', Buffer.from('o1:0').toString('base64url')],
    ['negative', Buffer.from('o1:-5').toString('base64url')],
    ['a fraction', Buffer.from('o1:1.5').toString('base64url')],
    ['beyond 2^53', Buffer.from('o1:9007199254740993').toString('base64url')],
    ['too long', 'A'.repeat(41)],
  ])('refuses %s', (_, cursor) => {
    expect(decodeOrderCursor(cursor)).toBeUndefined();
  });
});
