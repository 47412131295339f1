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
  'refund',
  'refund-repeated',
  'refund-concurrent',
  'refund-race-pay',
  'refund-recovery',
  'referral-reward',
  'reward-reversal',
  'group-start',
  'group-join',
  'group-complete',
  'group-fail',
  'group-race',
  'recovery',
  'lifecycle',
  'invariant-7',
] as const;
export type Transition = (typeof TRANSITIONS)[number];

export const FAULTS = [
  'lost-reply-retry',
  'kill-before-debit',
  'kill-after-debit',
  'kill-before-refund',
  'kill-after-refund',
  'kill-before-release',
  'kill-after-release',
  'relay-resend',
  'clock-past-deadline',
] as const;
export type Fault = (typeof FAULTS)[number];

/**
 * The least count a run must reach for each transition and each fault (`--min-coverage`): under
 * it the run fails, so a coverage claim is checked, not read off the report.
 */
export interface CoverageFloor {
  readonly transitions: number;
  readonly faults: number;
}

/** A coverage as one JSON value (a lane's run sends its coverage to the run that merges). */
export interface CoverageJson {
  readonly steps: number;
  readonly counts: Readonly<Record<string, number>>;
}

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

  /** Every transition and fault under the floor, with its count (`pay-repeated 912 < 1,000`). */
  shortfalls(floor: CoverageFloor): string[] {
    const under = (names: readonly string[], min: number) =>
      names.filter((k) => this.get(k) < min).map((k) => `${k} ${fmt(this.get(k))} < ${fmt(min)}`);
    return [...under(TRANSITIONS, floor.transitions), ...under(FAULTS, floor.faults)];
  }

  toJSON(): CoverageJson {
    return { steps: this.steps, counts: Object.fromEntries(this.counts) };
  }

  static fromJSON(json: CoverageJson): Coverage {
    const coverage = new Coverage();
    coverage.steps = json.steps;
    for (const [k, v] of Object.entries(json.counts)) coverage.counts.set(k, v);
    return coverage;
  }

  /** The report: every transition and fault with its count, then the outcomes seen. */
  report(): string {
    const width = 34;
    const line = (k: string) => `  ${k.padEnd(width)} ${fmt(this.get(k))}`;
    const outcomes = [...this.counts.keys()].filter((k) => k.includes(':')).sort();
    return [
      `steps: ${fmt(this.steps)}`,
      'transitions:',
      ...TRANSITIONS.map(line),
      'faults:',
      ...FAULTS.map(line),
      'outcomes:',
      ...outcomes.map(line),
    ].join('\n');
  }
}

function fmt(n: number): string {
  return n.toLocaleString('en-US');
}
