import { afterFailure, retryDelayMs } from './backoff';

describe('retry backoff', () => {
  it('doubles from the base up to the cap, each delay between half its step and the step', () => {
    const steps = [1, 2, 3, 4, 5, 6, 20].map((n) => [
      retryDelayMs(n, 1000, 10_000, () => 0),
      retryDelayMs(n, 1000, 10_000, () => 1),
    ]);
    expect(steps).toEqual([
      [500, 1000],
      [1000, 2000],
      [2000, 4000],
      [4000, 8000],
      [5000, 10_000],
      [5000, 10_000],
      [5000, 10_000],
    ]);
  });

  it('keeps retrying for the whole window and gives up after it, not before', () => {
    const policy = { baseMs: 10_000, maxMs: 3_600_000, retryForMs: 24 * 3_600_000 };
    const first = new Date('2026-01-01T00:00:00Z');
    let at = first;
    let attempts = 0;
    for (;;) {
      attempts++;
      const next = afterFailure(attempts, first, at, policy, () => 1);
      if ('failed' in next) break;
      at = next.retryAt;
    }
    expect(at.getTime() - first.getTime()).toBeGreaterThanOrEqual(24 * 3_600_000);
    expect(attempts).toBeGreaterThan(20);
    expect(attempts).toBeLessThan(40);
  });
});
