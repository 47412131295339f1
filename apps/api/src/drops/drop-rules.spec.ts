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
};

function fieldsOf(d: DropFields): string[] {
  try {
    checkDropRules(d);
    return [];
  } catch (e) {
    return ((e as DomainError).details ?? []).map((x) => x.field);
  }
}

describe('the rules between drop fields', () => {
  it('accepts a well-ordered drop, and closes == saleStartsAt', () => {
    expect(fieldsOf(base)).toEqual([]);
    expect(fieldsOf({ ...base, reservationClosesAt: T })).toEqual([]);
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
  ])('refuses %s', (_n, change, fields) => {
    expect(fieldsOf({ ...base, ...change })).toEqual(fields);
  });
  it('needs no window when no reservation is required', () => {
    expect(
      fieldsOf({
        ...base,
        reservationRequired: false,
        reservationOpensAt: undefined,
        reservationClosesAt: undefined,
      }),
    ).toEqual([]);
  });
});
