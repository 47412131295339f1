import { FanRateLimiter } from './fan-rate-limiter';

describe('FanRateLimiter: a fixed window per fan', () => {
  it('allows up to the limit per fan per window, then refuses until the next window', () => {
    let now = 10_000;
    const limiter = new FanRateLimiter(3, 1000, () => now);
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
    const limiter = new FanRateLimiter(0);
    expect(Array.from({ length: 100 }, () => limiter.allow('f')).every(Boolean)).toBe(true);
  });

  it('answers the whole seconds left in the window as Retry-After, at least 1', () => {
    let now = 60_000;
    const minute = new FanRateLimiter(1, 60_000, () => now);
    expect(minute.retryAfterSeconds()).toBe(60);
    now += 59_500;
    expect(minute.retryAfterSeconds()).toBe(1);
    const second = new FanRateLimiter(1, 1000, () => now);
    expect(second.retryAfterSeconds()).toBe(1);
  });
});
