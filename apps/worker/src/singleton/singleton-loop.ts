import { Logger } from '@nestjs/common';
import { RedisClient, withTimeout } from '@flashdrop/persistence';
import Redlock, { Lock } from 'redlock';

interface LeaseOptions {
  /** The lock's resource name; one holder per name across every worker instance. */
  readonly resource: string;
  /** Lease length: how long a dead holder keeps others waiting. */
  readonly leaseMs: number;
  /** Pause between ticks; for `lead`, how often a follower tries to take the lease. */
  readonly intervalMs: number;
}

/** Repeated short work: one `tick` per interval while this instance holds the lease. */
interface TickOptions extends LeaseOptions {
  /**
   * One unit of work; must finish well within the lease. `signal` aborts when the lease is
   * about to run out unrenewed (or the loop stops): a pass that is still going must then stop
   * writing.
   */
  readonly tick: (signal: AbortSignal) => Promise<unknown>;
}

/**
 * Long-running work (a relay's read-send-acknowledge loop): runs as long as the lease is held.
 * The lease is renewed in the background; when a renewal fails, when none has succeeded by
 * the guard (LEASE_GUARD_FRACTION before the lease runs out: a renewal that hangs), or when the
 * loop stops, `signal` aborts and the work must return at once.
 */
interface LeadOptions extends LeaseOptions {
  readonly lead: (signal: AbortSignal) => Promise<unknown>;
}

export type SingletonLoopOptions = TickOptions | LeadOptions;

/**
 * Runs a singleton's work in exactly one worker instance at a time, under a redlock lease that
 * the holder renews while it lives: the sweeper, the scheduler and order persistence tick, the
 * outbox relays lead. When the holder dies (kill -9), its lease runs out after `leaseMs` and
 * another instance takes over. The lease only avoids wasted work: the scripts the singletons
 * run are correct even if two instances ever overlap (each checks state atomically; a relay's
 * re-sends keep their event ids, which consumers dedupe). redlock guards only such singletons,
 * never the grab or payment path.
 *
 * What must stay true: a holder stops writing before a successor can hold the lease. A
 * successor takes it only once Redis has let the key expire, which is never earlier than the
 * holder's own `lock.expiration` (redlock counts it from before its request, less a drift
 * allowance). So the work's signal aborts LEASE_GUARD_FRACTION of a lease before that moment
 * unless a renewal came back in time, however the renewal failed: an error, or no answer at
 * all (on a Redis Cluster a renewal to a primary cut off from this process waits, without an
 * error, for as long as the cut lasts). The work checks the signal before each write, so a
 * write it started before the abort must land within that margin. Not covered: a lease the
 * server itself lost (a failover before the key reached the replica) lets a successor in early;
 * the singletons' writes are correct under overlap for that case (see above).
 */
export class SingletonLoop {
  private readonly logger: Logger;
  private readonly stopping = new AbortController();
  private lock?: Lock;
  /** The current work's "lease lost" switch, and the timer that throws it (see the class). */
  private work?: AbortController;
  private guard?: NodeJS.Timeout;
  private running = false;
  private done?: Promise<void>;
  private wake?: () => void;

  constructor(
    private readonly redlock: Redlock,
    private readonly options: SingletonLoopOptions,
  ) {
    this.logger = new Logger(`SingletonLoop:${options.resource}`);
  }

  get isLeader(): boolean {
    return this.lock !== undefined && this.lock.expiration > Date.now();
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.done = this.loop();
  }

  async stop(): Promise<void> {
    this.running = false;
    this.stopping.abort();
    this.wake?.();
    await this.done;
    clearTimeout(this.guard);
    await this.lock?.release().catch(() => undefined);
    this.lock = undefined;
  }

  private async loop(): Promise<void> {
    while (this.running) {
      try {
        if (await this.holdLease()) {
          await this.whileHeld('tick' in this.options ? this.options.tick : this.options.lead);
        }
      } catch (e) {
        this.logger.warn(`singleton work failed: ${(e as Error).message}`);
      }
      if (this.running) await this.sleep(this.options.intervalMs);
    }
  }

  /** Takes the lease, or renews it when half of it has run out. */
  private async holdLease(): Promise<boolean> {
    const { resource, leaseMs } = this.options;
    try {
      // Bounded: on a Redis Cluster a lease call to a primary this process cannot reach gets
      // no answer at all, and an answer later than the guard is of no use (and `stop` must not
      // wait for it). A lease taken by a call that timed out here runs out by itself.
      const bound = leaseMs * RENEWAL_BOUND_FRACTION;
      if (!this.lock || this.lock.expiration <= Date.now()) {
        this.lock = await withTimeout(this.redlock.acquire([resource], leaseMs), bound, 'lease');
        this.logger.log(`took the lease`);
      } else if (this.lock.expiration - Date.now() < leaseMs / 2) {
        this.lock = await withTimeout(this.lock.extend(leaseMs), bound, 'lease renewal');
      }
      this.armGuard(this.lock);
      return true;
    } catch {
      // Another instance holds it (or Redis is away): wait for the next round.
      this.lock = undefined;
      this.work?.abort();
      return false;
    }
  }

  /**
   * (Re)arms the guard for the lease just taken or renewed: unless a later renewal re-arms it,
   * it aborts the current work LEASE_GUARD_FRACTION of a lease before `lock.expiration`.
   */
  private armGuard(lock: Lock): void {
    clearTimeout(this.guard);
    const margin = this.options.leaseMs * LEASE_GUARD_FRACTION;
    const due = lock.expiration - margin - Date.now();
    this.guard = setTimeout(
      () => {
        if (this.lock === lock) this.work?.abort();
      },
      Math.max(0, due),
    );
  }

  /**
   * Runs one piece of work (a tick, or a lead for as long as it lasts) while the lease holds: a
   * timer renews it every quarter lease; a failed renewal, or the guard when no renewal came
   * back in time, aborts the work's signal before the lease can run out (see the class), so
   * the work has stopped before a successor can start.
   */
  private async whileHeld(work: (signal: AbortSignal) => Promise<unknown>): Promise<void> {
    const lost = new AbortController();
    this.work = lost;
    // A lease that ran out while this instance was not looking (a long pause) counts as lost.
    if (!this.isLeader) lost.abort();
    const renew = setInterval(() => void this.holdLease(), this.options.leaseMs / 4);
    try {
      await work(AbortSignal.any([lost.signal, this.stopping.signal]));
    } finally {
      clearInterval(renew);
      this.work = undefined;
    }
    if (lost.signal.aborted) this.logger.warn('lease lost: stopped its work');
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, ms);
      this.wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }
}

/**
 * How long before the holder's own view of the lease's end its work is told to stop, as a
 * share of the lease: the time a write started just before may take to land. Renewals start
 * at half the lease, so a renewal has three tenths of a lease to come back.
 */
export const LEASE_GUARD_FRACTION = 0.2;

/** How long one lease call may take, as a share of the lease: what the guard leaves it. */
const RENEWAL_BOUND_FRACTION = 0.3;

/** The `locks:` Redis key family: a singleton's lease, and the only place that spells one. */
export function leaseKey(singleton: string): string {
  return `locks:${singleton}`;
}

/** Redlock on one Redis, never retrying: a busy lease means "not this instance's turn". */
export function createRedlock(client: RedisClient): Redlock {
  const redlock = new Redlock([client], { retryCount: 0, driftFactor: 0.01 });
  // redlock reports every refused vote as an 'error' event; without a listener Node would throw.
  redlock.on('error', () => undefined);
  return redlock;
}
