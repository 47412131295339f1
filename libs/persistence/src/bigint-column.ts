import { ValueTransformer } from 'typeorm';

/**
 * PostgreSQL bigint arrives as a string (it may exceed 2^53). Balances are kept within 2^53 - 1
 * by the accounts_balance_safe constraint, so the conversion to a number is exact; anything
 * else is a broken invariant and fails loudly.
 */
export function toSafeNumber(value: string | number): number {
  const n = typeof value === 'number' ? value : Number(value);
  if (!Number.isSafeInteger(n)) throw new Error(`amount ${value} is not a safe integer`);
  return n;
}

export const bigintToNumber: ValueTransformer = {
  to: (value: number | null | undefined) => value,
  from: (value: string | null) => (value === null ? null : toSafeNumber(value)),
};
