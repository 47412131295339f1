import { Principal } from '@flashdrop/contracts';

/** A full cache sweeps out expired tokens at most this often (a sweep walks every entry). */
export const SWEEP_EVERY_MS = 10_000;

/**
 * The tokens already verified, each until its own `exp`, at most `capacity` of them.
 *
 * Why it must outlive the wave: a fan reserves during the window and grabs at the start instant
 * with the same token, so a cache that still holds the window's fans answers the rush's token
 * check without an HMAC. A least-recently-used bound (the two generations this replaced) keeps
 * the *last* fans seen: with more fans in the window than it holds, it dropped each fan just
 * before the rush came back for it, in the order they came, and no grab hit. So this one is
 * first come, first kept: when full, a new token is not cached (it is verified again on its
 * next call, as every token was before), and room comes back only as cached tokens expire.
 *
 * What must stay true:
 * - `get` answers a token only while `exp * 1000 > now`: the signature check's own rule
 *   (hs256.ts, jsonwebtoken: refused once `now >= exp` in whole seconds); a token is never
 *   accepted from here after its exp;
 * - at most `capacity` tokens are held (memory: an estimated 0.3-0.4 KB per token with its string; not measured);
 * - no token is removed one by one on the way in: a full cache either sweeps or skips. (V8
 *   leaves a deleted Map entry as a hole until the table is rebuilt, and evicting the oldest key
 *   per insert walked tens of thousands of holes per call: profile/token-cache-cost.ts.)
 * Expired tokens go when looked up, and all at once when the cache is full, at most once per
 * SWEEP_EVERY_MS and only once the earliest exp it holds has passed.
 */
export class VerifiedTokens {
  private readonly tokens = new Map<string, Principal>();
  /** The earliest `exp` (ms) of any token held; a sweep before it would free nothing. */
  private earliestExpMs = Infinity;
  private lastSweepMs = -Infinity;

  constructor(
    readonly capacity: number,
    /** The same clock as the signature check's (read per call: a faked Date.now applies). */
    private readonly now: () => number = () => Date.now(),
  ) {}

  /** The token's principal while its exp has not passed; else undefined (and it is dropped). */
  get(token: string): Principal | undefined {
    const principal = this.tokens.get(token);
    if (principal === undefined) return undefined;
    if (principal.exp * 1000 > this.now()) return principal;
    this.tokens.delete(token);
    return undefined;
  }

  /** Caches a verified token, unless the cache is full of tokens that have not expired. */
  set(token: string, principal: Principal): void {
    if (this.tokens.size >= this.capacity && !this.tokens.has(token)) {
      this.sweep();
      if (this.tokens.size >= this.capacity) return;
    }
    this.tokens.set(token, principal);
    this.earliestExpMs = Math.min(this.earliestExpMs, principal.exp * 1000);
  }

  delete(token: string): void {
    this.tokens.delete(token);
  }

  get size(): number {
    return this.tokens.size;
  }

  private sweep(): void {
    const now = this.now();
    if (now < this.earliestExpMs || now - this.lastSweepMs < SWEEP_EVERY_MS) return;
    this.lastSweepMs = now;
    let earliest = Infinity;
    for (const [token, principal] of this.tokens) {
      const expMs = principal.exp * 1000;
      if (expMs <= now) this.tokens.delete(token);
      else if (expMs < earliest) earliest = expMs;
    }
    this.earliestExpMs = earliest;
  }
}
