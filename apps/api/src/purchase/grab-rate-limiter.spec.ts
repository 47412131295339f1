import { GrabRateLimiter } from './grab-rate-limiter';

describe('GrabRateLimiter: a fixed one-second window per fan', () => {
  it('allows up to the limit per fan per second, then refuses until the next second', () => {
    let now = 10_000;
    const limiter = new GrabRateLimiter(3, () => now);
    expect([1, 2, 3, 4, 5].map(() => limiter.allow('bot'))).toEqual([
      true,
      true,
      true,
      false,
      false,
    ]);
    expect(limiter.allow('someone-else')).toBe(true);
    now += 999;
    expect(limiter.allow('bot')).toBe(false);
    now += 1;
    expect(limiter.allow('bot')).toBe(true);
  });

  it('never refuses with a limit of 0', () => {
    const limiter = new GrabRateLimiter(0);
    expect(Array.from({ length: 100 }, () => limiter.allow('f')).every(Boolean)).toBe(true);
  });
});
