/**
 * The per-fan grab rate limit (docs/api.md: 429 TOO_MANY_REQUESTS), a fixed one-second window per fan
 * kept in this process's memory.
 *
 * It used to be an INCR + PEXPIRE inside grab.lua, which made every grab a Redis write (an AOF
 * append and a key per fan per second), even the SOLD_OUT ones that otherwise change nothing.
 * Here it costs a Map lookup and stops a hammering fan before any Redis round trip. The price:
 * with N API instances a fan can reach N x the limit; it is a guard against one account crowding
 * out others, not a quota, so that is the usual trade (edge proxies limit per node too).
 */
export class GrabRateLimiter {
  /** Grabs per fan in the current one-second window. */
  private current = new Map<string, number>();
  private window = 0;

  constructor(
    private readonly perSecond: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** Counts one grab of this fan; false when it goes over the limit (0 = no limit). */
  allow(fanId: string): boolean {
    if (this.perSecond <= 0) return true;
    const window = Math.floor(this.now() / 1000);
    if (window !== this.window) {
      // A new second: every fan starts again. Dropping the map whole keeps memory to the fans
      // of one second, with no timer and no per-entry expiry.
      this.window = window;
      this.current = new Map();
    }
    const n = (this.current.get(fanId) ?? 0) + 1;
    this.current.set(fanId, n);
    return n <= this.perSecond;
  }
}
