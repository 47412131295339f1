import { Coverage, FAULTS, TRANSITIONS } from './coverage';

/** A coverage where every transition ran `t` times and every fault `f` times. */
function coverageOf(t: number, f: number): Coverage {
  const coverage = new Coverage();
  for (const name of TRANSITIONS) coverage.add(name, t);
  for (const name of FAULTS) coverage.add(name, f);
  return coverage;
}

describe('the coverage floor (npm run simulate -- --min-coverage N)', () => {
  const floor = { transitions: 1000, faults: 100 };

  it('passes a coverage at the floor exactly', () => {
    expect(coverageOf(1000, 100).shortfalls(floor)).toEqual([]);
  });

  it('names every transition and every fault under the floor, with its count', () => {
    const coverage = coverageOf(1000, 100);
    coverage.counts.set('pay-repeated', 912);
    coverage.counts.set('backfill', 999);
    coverage.counts.set('kill-after-debit', 99);
    expect(coverage.shortfalls(floor)).toEqual([
      'pay-repeated 912 < 1,000',
      'backfill 999 < 1,000',
      'kill-after-debit 99 < 100',
    ]);
  });

  it('counts a transition that never ran as short (0), and outcomes not at all', () => {
    const coverage = coverageOf(1000, 100);
    coverage.counts.delete('expire-clock');
    coverage.add('grab:SOLD_OUT', 5);
    expect(coverage.shortfalls(floor)).toEqual(['expire-clock 0 < 1,000']);
  });

  it('sums lanes: what each lane sends, merged, is what one run would have counted', () => {
    const a = coverageOf(600, 60);
    a.steps = 10;
    const b = Coverage.fromJSON(JSON.parse(JSON.stringify(coverageOf(400, 40).toJSON())));
    b.steps = 5;
    expect(a.shortfalls(floor)).toHaveLength(TRANSITIONS.length + FAULTS.length);
    a.merge(b);
    expect(a.shortfalls(floor)).toEqual([]);
    expect(a.steps).toBe(15);
    expect(a.report()).toContain('steps: 15');
  });
});
