/**
 * A per-fan rate limit (docs/api.md: 429 TOO_MANY_REQUESTS with Retry-After): a fixed window per fan
 * kept in this process's memory. The grab, the cancel and the share each have one.
 *
 * The grab's used to be an INCR + PEXPIRE inside grab.lua, which made every grab a Redis write
 * (an AOF append and a key per fan per second), even the SOLD_OUT ones that otherwise change
 * nothing. Here it costs a Map lookup and stops a hammering fan before any Redis round trip. The
 * price: with N API instances a fan can reach N x the limit; it is a guard against one account
 * crowding out others, not a quota, so that is the usual trade (edge proxies limit per node too).
 */
export class FanRateLimiter {
  /** Requests per fan in the current window. */
  private current = new Map<string, number>();
  private window = 0;

  constructor(
    /** Requests one fan may make per window; 0 = no limit. */
    private readonly limit: number,
    private readonly windowMs: number = 1000,
    private readonly now: () => number = Date.now,
  ) {}

  /** Counts one request of this fan; false when it goes over the limit. */
  allow(fanId: string): boolean {
    if (this.limit <= 0) return true;
    const window = Math.floor(this.now() / this.windowMs);
    if (window !== this.window) {
      // A new window: every fan starts again. Dropping the map whole keeps memory to the fans
      // of one window, with no timer and no per-entry expiry.
      this.window = window;
      this.current = new Map();
    }
    const n = (this.current.get(fanId) ?? 0) + 1;
    this.current.set(fanId, n);
    return n <= this.limit;
  }

  /** Whole seconds until the current window ends (at least 1): the answer's Retry-After. */
  retryAfterSeconds(): number {
    const end = (Math.floor(this.now() / this.windowMs) + 1) * this.windowMs;
    return Math.max(1, Math.ceil((end - this.now()) / 1000));
  }
}
