import { ErrorCode } from '@flashdrop/contracts';

/** How often a process reports the refusals it counted: the dashboard's lag for them. */
export const REFUSAL_FLUSH_MS = 250;

/** Writes one drop's counted refusals (count_refusals.lua); throws when Redis is unreachable. */
export type RefusalWriter = (
  dropId: string,
  counts: ReadonlyMap<ErrorCode, number>,
) => Promise<void>;

/**
 * Grab refusals counted in memory and reported in aggregate every REFUSAL_FLUSH_MS, instead of
 * a counter write and an event per refusal inside grab.lua. In the phone rush 190,000 of the
 * 240,000 answers are SOLD_OUT: written one by one they made Redis's CPU per grab 2.3x the
 * floor's and filled the relay, Kafka and analytics with events that change nothing.
 *
 * A refusal changes no state, so this is a report, not a write anyone was promised: what a
 * process counted in its last REFUSAL_FLUSH_MS is lost if it is killed (a graceful stop flushes).
 * A failed flush keeps the counts for the next one.
 */
export class RefusalTally {
  private pending = new Map<string, Map<ErrorCode, number>>();
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
    // unref: a pending report never keeps a process (a test, a script) alive on its own.
    this.timer ??= setTimeout(() => void this.flush(), this.intervalMs).unref();
  }

  /** Writes everything counted so far; one flush at a time, later callers wait for it. */
  async flush(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    while (this.flushing) await this.flushing;
    if (this.pending.size === 0) return;
    const batch = this.pending;
    this.pending = new Map();
    this.flushing = this.writeAll(batch).finally(() => (this.flushing = undefined));
    return this.flushing;
  }

  private async writeAll(batch: Map<string, Map<ErrorCode, number>>): Promise<void> {
    await Promise.all(
      [...batch].map(async ([dropId, counts]) => {
        try {
          await this.write(dropId, counts);
        } catch {
          // Redis unreachable: keep the counts for the next flush (the grab is failing too).
          for (const [code, n] of counts) this.record(dropId, code, n);
        }
      }),
    );
  }
}
