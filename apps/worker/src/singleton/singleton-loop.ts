import { Logger } from '@nestjs/common';
import Redis from 'ioredis';
import Redlock, { Lock } from 'redlock';

export interface SingletonLoopOptions {
  /** The lock's resource name; one holder per name across every worker instance. */
  readonly resource: string;
  /** Lease length: how long a dead holder keeps others waiting. */
  readonly leaseMs: number;
  /** Pause between ticks. */
  readonly intervalMs: number;
  /** One unit of work; must finish well within the lease. */
  readonly tick: () => Promise<unknown>;
}

/**
 * Runs `tick` repeatedly in exactly one worker instance at a time, under a redlock lease that
 * the holder renews while it lives. When the holder dies (kill -9), its lease runs out after
 * `leaseMs` and another instance takes over. The lease only avoids wasted work: the scripts the
 * ticks run are correct even if two instances ever overlap (each checks state atomically).
 */
export class SingletonLoop {
  private readonly logger: Logger;
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
    this.wake?.();
    await this.done;
    await this.lock?.release().catch(() => undefined);
    this.lock = undefined;
  }

  private async loop(): Promise<void> {
    while (this.running) {
      try {
        if (await this.holdLease()) await this.options.tick();
      } catch (e) {
        this.logger.warn(`tick failed: ${(e as Error).message}`);
      }
      await this.sleep(this.options.intervalMs);
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

/** Redlock on one Redis, never retrying: a busy lease means "not this instance's turn". */
export function createRedlock(client: Redis): Redlock {
  return new Redlock([client], { retryCount: 0, driftFactor: 0.01 });
}
