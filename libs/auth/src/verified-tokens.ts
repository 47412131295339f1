import { Principal } from '@flashdrop/contracts';

/**
 * The tokens already verified, bounded, in two generations: new tokens go into the young map;
 * when it holds half the bound it becomes the old one and the previous old one is dropped whole.
 * So the cache holds the last `capacity / 2` to `capacity` tokens seen, and a token found in
 * the old generation moves to the young one (a fan who keeps calling stays cached).
 *
 * Why not one Map that deletes its oldest key per insert once full: V8 leaves a deleted entry
 * as a hole until the table is rebuilt, and `keys().next()` walks every hole in front of the
 * first live key, so at 200,000 tokens each eviction walked tens of thousands of holes: a
 * first-seen token cost 5-10 times its HMAC once the cache was full (a rush of more distinct
 * fans than it holds; load-tests/profile/token-cache-cost.ts). Here nothing is deleted one by
 * one on the way in: an insert is one `set`, a lookup at most two `get`s.
 */
export class VerifiedTokens {
  private young = new Map<string, Principal>();
  private old = new Map<string, Principal>();
  private readonly generation: number;

  constructor(readonly capacity: number) {
    this.generation = Math.max(1, Math.floor(capacity / 2));
  }

  get(token: string): Principal | undefined {
    const young = this.young.get(token);
    if (young) return young;
    const old = this.old.get(token);
    if (old) this.set(token, old);
    return old;
  }

  set(token: string, principal: Principal): void {
    if (this.young.size >= this.generation) {
      this.old = this.young;
      this.young = new Map();
    }
    this.young.set(token, principal);
  }

  delete(token: string): void {
    this.young.delete(token);
    this.old.delete(token);
  }

  /** Tokens held (one moved to the young generation may be counted twice until the next turn). */
  get size(): number {
    return this.young.size + this.old.size;
  }
}
