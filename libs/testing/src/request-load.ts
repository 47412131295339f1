/**
 * Requests sent by `concurrency` callers in a loop until `stop()`, for crash tests: each answer
 * the caller counts as acknowledged (`attempt` resolves to a value) is kept with the phase it was
 * SENT in, and `phase(name)` marks an instant (the kill, the restart) and answers how many
 * requests were in flight at it. That is what lets a kill test prove the kill fell in the middle
 * of the traffic (acknowledged before it, in flight at it, acknowledged after the restart)
 * instead of assuming it.
 */
export class RequestLoad<T> {
  private readonly phases: string[] = ['start'];
  private readonly acks: { value: T; phase: string }[] = [];
  private running = true;
  private inFlightNow = 0;
  private failuresNow = 0;
  private readonly callers: Promise<void>[];

  /**
   * `attempt(n)` sends the n-th request and resolves to what was acknowledged, or undefined (a
   * refusal or an error; it must not throw). After an undefined answer a caller naps
   * `napAfterFailureMs`, so a server that is down is not spun on.
   */
  constructor(
    attempt: (n: number) => Promise<T | undefined>,
    concurrency: number,
    napAfterFailureMs = 20,
  ) {
    let sent = 0;
    this.callers = Array.from({ length: concurrency }, async () => {
      while (this.running) {
        const phase = this.current;
        this.inFlightNow += 1;
        const value = await attempt(sent++).catch(() => undefined);
        this.inFlightNow -= 1;
        if (value !== undefined) this.acks.push({ value, phase });
        else {
          this.failuresNow += 1;
          await new Promise((r) => setTimeout(r, napAfterFailureMs));
        }
      }
    });
  }

  get current(): string {
    return this.phases[this.phases.length - 1];
  }

  /** Requests sent and not yet answered, now. */
  get inFlight(): number {
    return this.inFlightNow;
  }

  /** Answers that were not acknowledged (refusals, errors), so far. */
  get failures(): number {
    return this.failuresNow;
  }

  /** Starts phase `name` (requests sent from now on belong to it); answers the in-flight count. */
  phase(name: string): number {
    this.phases.push(name);
    return this.inFlightNow;
  }

  /** Every acknowledged value, of every phase. */
  get acknowledged(): T[] {
    return this.acks.map((a) => a.value);
  }

  /** Values acknowledged for requests sent in `phase`. */
  acknowledgedIn(phase: string): T[] {
    return this.acks.filter((a) => a.phase === phase).map((a) => a.value);
  }

  /** Stops sending; resolves once every caller's last request was answered. */
  async stop(): Promise<void> {
    this.running = false;
    await Promise.all(this.callers);
  }
}
