import { DomainError } from '@flashdrop/contracts';

/**
 * How many live streams this process serves: at most `perCaller` for one caller (the token's
 * `sub`) and `total` in all. A stream is a connection held open for hours with a snapshot
 * written to it every second, so without a bound one caller (or a crowd) can hold every socket
 * and every frame's write of the process. Past a bound the stream is refused before it starts:
 * 429 TOO_MANY_REQUESTS for one caller's excess, 503 SERVICE_UNAVAILABLE when the process is full
 * (both with Retry-After).
 */
/** A refused stream's Retry-After: streams are long-lived, so a place frees up slowly. */
const RETRY_AFTER_SECONDS = 5;

export class LiveAdmission {
  private readonly perSub = new Map<string, number>();
  private open = 0;

  constructor(
    private readonly perCaller: number,
    private readonly total: number,
  ) {}

  /** Counts one stream of `sub` in; throws the refusal when a bound is reached. */
  admit(sub: string): void {
    const mine = this.perSub.get(sub) ?? 0;
    if (mine >= this.perCaller) {
      throw DomainError.tooMany('liveStreams', RETRY_AFTER_SECONDS);
    }
    if (this.open >= this.total) {
      throw DomainError.atCapacity('liveStreams', RETRY_AFTER_SECONDS);
    }
    this.perSub.set(sub, mine + 1);
    this.open++;
  }

  /** Counts one stream of `sub` out (once per admitted stream). */
  release(sub: string): void {
    const mine = this.perSub.get(sub) ?? 0;
    if (mine <= 1) this.perSub.delete(sub);
    else this.perSub.set(sub, mine - 1);
    this.open = Math.max(0, this.open - 1);
  }

  get size(): number {
    return this.open;
  }
}
