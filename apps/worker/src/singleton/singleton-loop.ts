import { Logger } from '@nestjs/common';
import type { RedisClient } from '@flashdrop/persistence';
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
  /** One unit of work; must finish well within the lease. */
  readonly tick: () => Promise<unknown>;
}

/**
 * Long-running work (a relay's read-send-acknowledge loop): runs as long as the lease is held.
 * The lease is renewed in the background; when a renewal fails (Redis gone, lease run out
 * during a long pause) or the loop stops, `signal` aborts and the work must return at once.
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
 */
export class SingletonLoop {
  private readonly logger: Logger;
  private readonly stopping = new AbortController();
  private lock?: Lock;
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
    await this.lock?.release().catch(() => undefined);
    this.lock = undefined;
  }

  private async loop(): Promise<void> {
    while (this.running) {
      try {
        if (await this.holdLease()) {
          if ('tick' in this.options) await this.options.tick();
          else await this.leadWhileHeld(this.options.lead);
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
      if (!this.lock || this.lock.expiration <= Date.now()) {
        this.lock = await this.redlock.acquire([resource], leaseMs);
        this.logger.log(`took the lease`);
      } else if (this.lock.expiration - Date.now() < leaseMs / 2) {
        this.lock = await this.lock.extend(leaseMs);
      }
      return true;
    } catch {
      // Another instance holds it (or Redis is away): wait for the next round.
      this.lock = undefined;
      return false;
    }
  }

  /**
   * Runs `lead` while the lease holds: a timer renews it every quarter lease; a failed renewal
   * aborts the work's signal before the lease can run out, so two leaders never overlap for
   * longer than a renewal in flight.
   */
  private async leadWhileHeld(lead: (signal: AbortSignal) => Promise<unknown>): Promise<void> {
    const lost = new AbortController();
    const renew = setInterval(() => {
      void this.holdLease().then((held) => {
        if (!held) lost.abort();
      });
    }, this.options.leaseMs / 4);
    try {
      await lead(AbortSignal.any([lost.signal, this.stopping.signal]));
    } finally {
      clearInterval(renew);
    }
    if (lost.signal.aborted) this.logger.warn('lease lost: stopped leading');
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
