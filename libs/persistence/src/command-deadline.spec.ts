import type { Command } from 'ioredis';
import { performance } from 'node:perf_hooks';
import { CommandDeadlines, sweepIntervalMs } from './command-deadline';

/** The two fields of an ioredis Command the deadline reads and calls. */
function command(): Command & { failures: Error[] } {
  const failures: Error[] = [];
  return {
    isResolved: false,
    failures,
    reject: (error: Error) => failures.push(error),
  } as unknown as Command & { failures: Error[] };
}

describe('CommandDeadlines (the sweep on its own)', () => {
  it('fails an unanswered command only once its deadline passed, with ioredis’ message', () => {
    const deadlines = new CommandDeadlines(1000);
    const sent = performance.now();
    const c = command();
    deadlines.track(c);
    deadlines.sweep(sent + 999);
    expect(c.failures).toHaveLength(0);
    deadlines.sweep(sent + 1000 + 50);
    expect(c.failures.map((e) => e.message)).toEqual(['Command timed out']);
    expect(deadlines.outstanding).toBe(0);
    // Let go of: a later sweep does not fail it again.
    deadlines.sweep(sent + 5000);
    expect(c.failures).toHaveLength(1);
  });

  it('never fails an answered command, and lets go of answered ones at the next sweep', () => {
    const deadlines = new CommandDeadlines(1000);
    const cs = Array.from({ length: 5 }, command);
    cs.forEach((c) => deadlines.track(c));
    cs.forEach((c) => (c.isResolved = true));
    deadlines.sweep();
    expect(deadlines.outstanding).toBe(0);
    deadlines.sweep(performance.now() + 10_000);
    expect(cs.every((c) => c.failures.length === 0)).toBe(true);
  });

  it('an answered command behind an unanswered one waits its turn; each is judged on its own', () => {
    const deadlines = new CommandDeadlines(1000);
    const [slow, quick, stuck] = [command(), command(), command()];
    [slow, quick, stuck].forEach((c) => deadlines.track(c));
    quick.isResolved = true;
    deadlines.sweep();
    expect(deadlines.outstanding).toBe(3);
    slow.isResolved = true;
    deadlines.sweep(performance.now() + 2000);
    expect(slow.failures).toHaveLength(0);
    expect(quick.failures).toHaveLength(0);
    expect(stuck.failures).toHaveLength(1);
    expect(deadlines.outstanding).toBe(0);
  });

  it('stays exact across the compaction of a long queue (a rush that never drains)', () => {
    const deadlines = new CommandDeadlines(1000);
    const first = command();
    deadlines.track(first);
    const answered = Array.from({ length: 10_000 }, command);
    answered.forEach((c) => deadlines.track(c));
    answered.forEach((c) => (c.isResolved = true));
    deadlines.sweep();
    expect(deadlines.outstanding).toBe(10_001);
    first.isResolved = true;
    const [kept, next] = [command(), command()];
    deadlines.track(kept);
    // Past 4096 answered entries in front: the queue is cut down to `kept`.
    deadlines.sweep();
    expect(deadlines.outstanding).toBe(1);
    deadlines.track(next);
    next.isResolved = true;
    deadlines.sweep(performance.now() + 2000);
    expect(kept.failures).toHaveLength(1);
    expect(next.failures).toHaveLength(0);
    expect([first, ...answered].every((c) => c.failures.length === 0)).toBe(true);
    expect(deadlines.outstanding).toBe(0);
  });

  it('sweeps every twentieth of the deadline, between 10 and 100 ms', () => {
    expect(sweepIntervalMs(5000)).toBe(100);
    expect(sweepIntervalMs(1000)).toBe(50);
    expect(sweepIntervalMs(100)).toBe(10);
  });
});
