import { createHash } from 'node:crypto';

/** The name `GET /v1/drops/:id/draw` gives the procedure below (docs/fair-launch.md spells it out). */
export const DRAW_ALGORITHM = 'fisher-yates-sha256-ctr-v1';

/** `seedCommitment`: the lower-case hex SHA-256 of the seed's UTF-8 bytes. */
export function seedCommitment(seed: string): string {
  return createHash('sha256').update(seed, 'utf8').digest('hex');
}

/**
 * The seed's random stream, in counter mode: block i (i = 0, 1, 2, ...) is
 * SHA-256(UTF-8 of `<seed>:<i>`, i in decimal); the stream is block 0, then block 1, ...;
 * numbers are read from it as consecutive unsigned 32-bit big-endian integers.
 */
export class SeedStream {
  private block = Buffer.alloc(0);
  private offset = 0;
  private counter = 0;

  constructor(private readonly seed: string) {}

  nextUint32(): number {
    if (this.offset + 4 > this.block.length) {
      this.block = createHash('sha256').update(`${this.seed}:${this.counter}`, 'utf8').digest();
      this.counter += 1;
      this.offset = 0;
    }
    const value = this.block.readUInt32BE(this.offset);
    this.offset += 4;
    return value;
  }

  /**
   * A uniform integer in [0, n) by rejection sampling: numbers at or above the largest
   * multiple of n below 2^32 are drawn again, so no value is more likely than another.
   */
  below(n: number): number {
    const limit = 2 ** 32 - (2 ** 32 % n);
    for (;;) {
      const x = this.nextUint32();
      if (x < limit) return x % n;
    }
  }
}

/**
 * The draw: a Fisher-Yates shuffle of the entrants (sorted, see entrants.ts) driven by the
 * seed's stream. For i from n-1 down to 1: j = below(i + 1), swap positions i and j. The
 * result's first min(quantity, n) fan ids are the winners in rank order; the rest are the
 * waitlist, in that order.
 */
export function shuffle(entrants: readonly string[], seed: string): string[] {
  const order = entrants.slice();
  const stream = new SeedStream(seed);
  for (let i = order.length - 1; i > 0; i--) {
    const j = stream.below(i + 1);
    const t = order[i];
    order[i] = order[j];
    order[j] = t;
  }
  return order;
}

/** The winners' count of a draw of `entrants` fans for `quantity` units. */
export function winnersCount(quantity: number, entrants: number): number {
  return Math.min(quantity, entrants);
}
