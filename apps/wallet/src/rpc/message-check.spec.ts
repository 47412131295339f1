import { DomainError } from '@flashdrop/contracts';
import { parseCreditMessage } from '../credits/credits.dto';
import { debitManyItems, parseDebitMessage } from '../payments/payments.dto';

const debit = {
  orderId: 'd1-0001',
  attempt: 17,
  fanId: 'fan-1',
  dropId: 'd1',
  brandId: 'brand-1',
  amountMinor: 1999,
  currency: 'CNY',
};

function refusal(run: () => unknown): readonly { field: string }[] {
  try {
    run();
  } catch (e) {
    expect(e).toBeInstanceOf(DomainError);
    expect((e as DomainError).code).toBe('VALIDATION_FAILED');
    return (e as DomainError).details ?? [];
  }
  throw new Error('accepted');
}

describe('wallet message checks (debit, credit)', () => {
  it('accepts a well-formed debit and credit as they are', () => {
    expect(parseDebitMessage({ ...debit })).toEqual(debit);
    const rewarded = { ...debit, referrerId: 'ref-1', rewardMinor: 1999 };
    expect(parseDebitMessage({ ...rewarded })).toEqual(rewarded);
    const credit = { fanId: 'f', amountMinor: 1, currency: 'CNY', reference: 'r' };
    expect(parseCreditMessage({ ...credit })).toEqual(credit);
  });

  it.each([
    ['no message', undefined, 'message'],
    ['an array', [debit], 'message'],
    ['an empty order id', { ...debit, orderId: '' }, 'orderId'],
    ['a long fan id', { ...debit, fanId: 'f'.repeat(129) }, 'fanId'],
    ['an attempt as a string', { ...debit, attempt: '17' }, 'attempt'],
    ['a negative attempt', { ...debit, attempt: -1 }, 'attempt'],
    ['a zero amount', { ...debit, amountMinor: 0 }, 'amountMinor'],
    ['a fractional amount', { ...debit, amountMinor: 1.5 }, 'amountMinor'],
    ['an amount past 1e15', { ...debit, amountMinor: 1e15 + 1 }, 'amountMinor'],
    ['a lower-case currency', { ...debit, currency: 'cny' }, 'currency'],
    ['a missing brand', { ...debit, brandId: undefined }, 'brandId'],
    ['an unknown field', { ...debit, extra: 1 }, 'extra'],
    [
      'a reward past the amount',
      { ...debit, referrerId: 'ref-1', rewardMinor: 2000 },
      'rewardMinor',
    ],
    ['a reward without a referrer', { ...debit, referrerId: '', rewardMinor: 1 }, 'referrerId'],
    [
      'a referrer without a reward',
      { ...debit, referrerId: 'ref-1', rewardMinor: 0 },
      'referrerId',
    ],
    ['a reward to the payer', { ...debit, referrerId: 'fan-1', rewardMinor: 300 }, 'referrerId'],
    ['a fractional reward', { ...debit, referrerId: 'ref-1', rewardMinor: 1.5 }, 'rewardMinor'],
  ])('refuses a debit with %s', (_what, message, field) => {
    expect(refusal(() => parseDebitMessage(message)).map((d) => d.field)).toEqual([field]);
  });

  it('refuses a credit past 1e12 or with a reference over 64 characters', () => {
    const ok = { fanId: 'f', amountMinor: 1, currency: 'CNY', reference: 'r' };
    expect(refusal(() => parseCreditMessage({ ...ok, amountMinor: 1e12 + 1 }))).toHaveLength(1);
    expect(refusal(() => parseCreditMessage({ ...ok, reference: 'r'.repeat(65) }))).toHaveLength(1);
  });
});

describe('debitMany message', () => {
  it.each([
    ['no items', {}],
    ['items not an array', { items: 'x' }],
    ['no debit at all', { items: [] }],
    ['too many debits', { items: Array.from({ length: 257 }, () => debit) }],
    ['an unknown field beside items', { items: [debit], extra: 1 }],
  ])('is refused with %s', (_what, message) => {
    expect(refusal(() => debitManyItems(message)).map((d) => d.field)).toEqual(['items']);
  });

  it('hands over its items to be checked one by one', () => {
    expect(debitManyItems({ items: [debit, { bad: 1 }] })).toEqual([debit, { bad: 1 }]);
  });
});
