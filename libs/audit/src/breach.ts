/** One broken invariant (docs/architecture.md "Invariants", numbered as there) found in the stored truth. */
export interface Breach {
  readonly invariant: 1 | 2 | 3 | 4 | 5 | 6 | 8 | 9;
  /** What it concerns: a drop, an order, an account, a transfer. */
  readonly subject: string;
  readonly message: string;
}

export const INVARIANTS: Record<Breach['invariant'], string> = {
  1: 'no oversell',
  2: 'per-fan limit',
  3: 'eligibility',
  4: 'money is conserved',
  5: 'exactly once',
  6: 'durability',
  8: 'fair allocation',
  9: 'campaign money',
};

/**
 * Not a broken invariant, but something the stored truth cannot show, which an operator must
 * know: a drop rebuilt after Redis lost it, and what did not come back (docs/sale.md).
 */
export interface Notice {
  readonly subject: string;
  readonly message: string;
}
