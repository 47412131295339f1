/**
 * The contract's transitions and the faults the simulator drives: the coverage report counts
 * each one run (a transition that was refused still counts as driven; its outcome is counted
 * apart as `name:outcome`).
 */
export const TRANSITIONS = [
  'reserve',
  'share',
  'grab',
  'cancel',
  'pay',
  'pay-repeated',
  'pay-concurrent',
  'expire-clock',
  'expire-sweeper',
  'waitlist-join',
  'backfill',
  'draw',
  'pause',
  'resume',
  'credit',
  'recovery',
  'lifecycle',
  'invariant-7',
] as const;
export type Transition = (typeof TRANSITIONS)[number];

export const FAULTS = [
  'lost-reply-retry',
  'kill-before-debit',
  'kill-after-debit',
  'relay-resend',
  'clock-past-deadline',
] as const;
export type Fault = (typeof FAULTS)[number];

/** Counts of what ran, summed over seeds. */
export class Coverage {
  readonly counts = new Map<string, number>();
  steps = 0;

  add(what: Transition | Fault | `${Transition}:${string}`, n = 1): void {
    if (n > 0) this.counts.set(what, (this.counts.get(what) ?? 0) + n);
  }

  get(what: string): number {
    return this.counts.get(what) ?? 0;
  }

  merge(other: Coverage): void {
    for (const [k, v] of other.counts) this.counts.set(k, this.get(k) + v);
    this.steps += other.steps;
  }

  /** The report: every transition and fault with its count, then the outcomes seen. */
  report(): string {
    const width = 34;
    const line = (k: string) => `  ${k.padEnd(width)} ${this.get(k).toLocaleString('en-US')}`;
    const outcomes = [...this.counts.keys()].filter((k) => k.includes(':')).sort();
    return [
      `steps: ${this.steps.toLocaleString('en-US')}`,
      'transitions:',
      ...TRANSITIONS.map(line),
      'faults:',
      ...FAULTS.map(line),
      'outcomes:',
      ...outcomes.map(line),
    ].join('\n');
  }
}
