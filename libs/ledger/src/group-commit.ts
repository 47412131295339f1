/** What one item of a batch came to: its own value or its own error. */
export type ItemResult<R> =
  { readonly ok: true; readonly value: R } | { readonly ok: false; readonly error: unknown };

export interface GroupCommitOptions<I> {
  /** At most this many items go into one batch (one database call). */
  readonly maxBatch: number;
  /**
   * At most this many batches run at once. While they all run, new items wait and coalesce, so
   * the batch size follows the load: one item at a time when idle, maxBatch under a storm.
   */
  readonly maxInFlight: number;
  /**
   * At most this many items wait; beyond it `overloaded()` is the answer at once. A caller gives
   * up after its own timeout anyway, and a queue that only grows would hold memory and serve
   * requests nobody waits for any more.
   */
  readonly maxQueued: number;
  readonly overloaded: () => unknown;
  /**
   * A batch never holds two items with the same key (e.g. one order): the batch functions lock
   * by key, and two items of one key in one transaction would wait for themselves. A later
   * item with a key already in the forming batch waits for the next batch.
   */
  readonly keyOf: (item: I) => string;
  /**
   * Whether a new item may share the answer of a queued item with the same key (the same
   * payment attempt asked twice): it then waits for that item's outcome instead of a slot.
   */
  readonly sameAs?: (queued: I, item: I) => boolean;
}

interface Entry<I, R> {
  readonly item: I;
  readonly key: string;
  readonly waiters: { resolve: (value: R) => void; reject: (error: unknown) => void }[];
}

/**
 * Group commit: concurrent callers' items are coalesced into batches, each run as ONE call of
 * `run` (one transaction, one commit), and each caller gets its own item's result only after
 * the batch that carried it has finished: nothing is acknowledged before its commit.
 * `run` must answer one ItemResult per item, in the batch's order.
 */
export class GroupCommit<I, R> {
  private readonly queue: Entry<I, R>[] = [];
  /** The newest queued entry of each key, for sameAs. */
  private readonly newest = new Map<string, Entry<I, R>>();
  private inFlight = 0;
  private scheduled = false;

  constructor(
    private readonly run: (items: readonly I[]) => Promise<readonly ItemResult<R>[]>,
    private readonly options: GroupCommitOptions<I>,
  ) {}

  submit(item: I): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      const key = this.options.keyOf(item);
      const twin = this.newest.get(key);
      if (twin && this.options.sameAs?.(twin.item, item)) {
        twin.waiters.push({ resolve, reject });
      } else if (this.queue.length >= this.options.maxQueued) {
        reject(this.options.overloaded());
        return;
      } else {
        const entry: Entry<I, R> = { item, key, waiters: [{ resolve, reject }] };
        this.queue.push(entry);
        this.newest.set(key, entry);
      }
      this.schedule();
    });
  }

  /** Items waiting for a batch (not counting those in flight). */
  get queued(): number {
    return this.queue.length;
  }

  private schedule(): void {
    if (this.scheduled || this.inFlight >= this.options.maxInFlight) return;
    this.scheduled = true;
    // One turn of the event loop lets the callers whose messages arrived together join.
    setImmediate(() => {
      this.scheduled = false;
      this.flush();
    });
  }

  private flush(): void {
    while (this.inFlight < this.options.maxInFlight && this.queue.length > 0) {
      const batch = this.take();
      this.inFlight++;
      void this.execute(batch).finally(() => {
        this.inFlight--;
        if (this.queue.length > 0) this.schedule();
      });
    }
  }

  /** Up to maxBatch queued entries with distinct keys, oldest first; the rest stay queued. */
  private take(): Entry<I, R>[] {
    const batch: Entry<I, R>[] = [];
    const keys = new Set<string>();
    let kept = 0;
    for (let i = 0; i < this.queue.length; i++) {
      const entry = this.queue[i];
      if (batch.length < this.options.maxBatch && !keys.has(entry.key)) {
        keys.add(entry.key);
        batch.push(entry);
        if (this.newest.get(entry.key) === entry) this.newest.delete(entry.key);
      } else {
        this.queue[kept++] = entry;
      }
    }
    this.queue.length = kept;
    return batch;
  }

  private async execute(batch: Entry<I, R>[]): Promise<void> {
    let results: readonly ItemResult<R>[];
    try {
      results = await this.run(batch.map((e) => e.item));
      if (results.length !== batch.length) {
        throw new Error(`a batch of ${batch.length} answered ${results.length} results`);
      }
    } catch (error) {
      results = batch.map(() => ({ ok: false, error }));
    }
    batch.forEach((entry, i) => {
      const result = results[i];
      for (const w of entry.waiters) {
        if (result.ok) w.resolve(result.value);
        else w.reject(result.error);
      }
    });
  }
}
