import { ErrorCode } from '@flashdrop/contracts';
import { randomBytes } from 'node:crypto';

/** How often a process reports the refusals it counted: the dashboard's lag for them. */
export const REFUSAL_FLUSH_MS = 250;

/**
 * Writes one drop's counted refusals (count_refusals.lua) as the batch `batchId`; throws when
 * Redis is unreachable. A batch written again under the same id counts once.
 */
export type RefusalWriter = (
  dropId: string,
  batchId: string,
  counts: ReadonlyMap<ErrorCode, number>,
) => Promise<void>;

interface Batch {
  readonly id: string;
  readonly counts: ReadonlyMap<ErrorCode, number>;
}

/**
 * Grab refusals counted in memory and reported in aggregate every REFUSAL_FLUSH_MS, instead of
 * a counter write and an event per refusal inside grab.lua. In the phone rush 190,000 of the
 * 240,000 answers are SOLD_OUT: written one by one they made Redis's CPU per grab 2.3x the
 * floor's and filled the relay, Kafka and analytics with events that change nothing.
 *
 * A refusal changes no state, so this is a report, not a write anyone was promised: what a
 * process counted in its last REFUSAL_FLUSH_MS is lost if it is killed (a graceful stop flushes).
 *
 * Each batch has an id, and a batch whose write failed is sent again as it was, under the same
 * id, before anything newer: the write may have landed with only its reply lost, and the script
 * counts an id once (its receipt key), so a retry never counts a refusal twice.
 */
export class RefusalTally {
  private pending = new Map<string, Map<ErrorCode, number>>();
  /** Per drop, batches whose write failed: re-sent first, in order, with their ids. */
  private readonly unconfirmed = new Map<string, Batch[]>();
  private readonly process = randomBytes(6).toString('hex');
  private sequence = 0;
  private timer?: NodeJS.Timeout;
  private flushing?: Promise<void>;

  constructor(
    private readonly write: RefusalWriter,
    private readonly intervalMs = REFUSAL_FLUSH_MS,
  ) {}

  record(dropId: string, code: ErrorCode, n = 1): void {
    let counts = this.pending.get(dropId);
    if (!counts) this.pending.set(dropId, (counts = new Map()));
    counts.set(code, (counts.get(code) ?? 0) + n);
    this.schedule();
  }

  /** Writes everything counted so far; one flush at a time, later callers wait for it. */
  async flush(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    while (this.flushing) await this.flushing;
    if (this.pending.size === 0 && this.unconfirmed.size === 0) return;
    const fresh = this.pending;
    this.pending = new Map();
    for (const [dropId, counts] of fresh) {
      const queue = this.unconfirmed.get(dropId) ?? [];
      queue.push({ id: `${this.process}-${++this.sequence}`, counts });
      this.unconfirmed.set(dropId, queue);
    }
    this.flushing = this.writeAll().finally(() => (this.flushing = undefined));
    return this.flushing;
  }

  private schedule(): void {
    // unref: a pending report never keeps a process (a test, a script) alive on its own.
    this.timer ??= setTimeout(() => void this.flush(), this.intervalMs).unref();
  }

  /** Each drop's batches in order; a failure stops that drop's queue until the next flush. */
  private async writeAll(): Promise<void> {
    await Promise.all(
      [...this.unconfirmed].map(async ([dropId, queue]) => {
        while (queue.length > 0) {
          try {
            await this.write(dropId, queue[0].id, queue[0].counts);
          } catch {
            // Redis unreachable (the grab is failing too): try again at the next flush.
            this.schedule();
            return;
          }
          queue.shift();
        }
        this.unconfirmed.delete(dropId);
      }),
    );
  }
}
