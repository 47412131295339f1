import { DomainError } from '@flashdrop/contracts';
import { checkDropRules, DropFields } from './drop-rules';

const T = Date.parse('2030-01-01T12:00:00Z');
const base: DropFields = {
  title: 't',
  sku: 's',
  priceMinor: 1,
  currency: 'CNY',
  quantity: 1,
  perUserLimit: 1,
  reservationRequired: true,
  reservationOpensAt: T - 2000,
  reservationClosesAt: T - 1000,
  saleStartsAt: T,
  holdSeconds: 600,
  allocation: 'first_come',
};

/**
 * The fields a refusal names. Only the rules' own refusal (a 400 VALIDATION_FAILED DomainError)
 * is read as an answer: anything else the rules throw fails the test, and so does no refusal.
 */
function refusedFields(d: DropFields): string[] {
  try {
    checkDropRules(d);
  } catch (e) {
    if (!(e instanceof DomainError) || e.code !== 'VALIDATION_FAILED') throw e;
    return (e.details ?? []).map((x) => x.field);
  }
  throw new Error('the rules accepted the drop');
}

describe('the rules between drop fields', () => {
  it('accepts a well-ordered drop, and closes == saleStartsAt', () => {
    expect(() => checkDropRules(base)).not.toThrow();
    expect(() => checkDropRules({ ...base, reservationClosesAt: T })).not.toThrow();
  });
  it.each<[string, Partial<DropFields>, string[]]>([
    [
      'window missing',
      { reservationOpensAt: undefined, reservationClosesAt: undefined },
      ['reservationOpensAt', 'reservationClosesAt'],
    ],
    [
      'half a window',
      { reservationRequired: false, reservationClosesAt: undefined },
      ['reservationClosesAt'],
    ],
    ['opens == closes', { reservationOpensAt: T - 1000 }, ['reservationClosesAt']],
    ['opens after closes', { reservationOpensAt: T - 500 }, ['reservationClosesAt']],
    ['closes after sale start', { reservationClosesAt: T + 1 }, ['reservationClosesAt']],
    ['ends == starts', { saleEndsAt: T }, ['saleEndsAt']],
    ['ends before starts', { saleEndsAt: T - 1 }, ['saleEndsAt']],
    [
      'a draw without reservations',
      {
        allocation: 'draw',
        reservationRequired: false,
        reservationOpensAt: undefined,
        reservationClosesAt: undefined,
      },
      ['allocation'],
    ],
  ])('refuses %s', (_n, change, fields) => {
    expect(refusedFields({ ...base, ...change })).toEqual(fields);
  });
  it('accepts a draw with reservations', () => {
    expect(() => checkDropRules({ ...base, allocation: 'draw' })).not.toThrow();
  });
  it('needs no window when no reservation is required', () => {
    expect(() =>
      checkDropRules({
        ...base,
        reservationRequired: false,
        reservationOpensAt: undefined,
        reservationClosesAt: undefined,
      }),
    ).not.toThrow();
  });
});
