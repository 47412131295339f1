import { DomainError } from '@flashdrop/contracts';

/**
 * How many live streams this process serves: at most `perCaller` for one caller (the token's
 * `sub`) and `total` in all. A stream is a connection held open for hours with a snapshot
 * written to it every second, so without a bound one caller (or a crowd) can hold every socket
 * and every frame's write of the process. Past a bound the stream is refused before it starts:
 * 429 TOO_MANY_REQUESTS for one caller's excess, 503 SERVICE_UNAVAILABLE when the process is full
 * (both with Retry-After).
 */
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
      throw new DomainError(
        'TOO_MANY_REQUESTS',
        `at most ${this.perCaller} live streams per caller; close one first`,
        undefined,
        5,
      );
    }
    if (this.open >= this.total) {
      throw new DomainError(
        'SERVICE_UNAVAILABLE',
        'too many live streams; try again',
        undefined,
        5,
      );
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
