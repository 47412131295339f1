import { Logger } from '@nestjs/common';
import Redis from 'ioredis';
import Redlock, { ResourceLockedError } from 'redlock';
import { sleep } from '@flashdrop/events';

export interface LeaderLeaseOptions {
  /** How long the lease lives without renewal: a killed leader is replaced after this. */
  readonly leaseMs?: number;
  /** How often a follower tries to take the lease over. */
  readonly retryMs?: number;
}

/**
 * Runs a singleton's work only while this process holds a redlock lease on `resource`, so at
 * most one process across the fleet relays (or sweeps) at a time. The lease is extended
 * automatically; when an extension fails (Redis gone, lease stolen after a long pause) the
 * signal given to `work` aborts and the work must stop at once, then the lease is sought again.
 * redlock guards only such singletons, never the grab or payment path.
 */
export class LeaderLease {
  private readonly logger: Logger;
  private readonly redlock: Redlock;
  private readonly leaseMs: number;
  private readonly retryMs: number;

  constructor(
    redis: Redis,
    readonly resource: string,
    options: LeaderLeaseOptions = {},
  ) {
    this.logger = new Logger(`LeaderLease(${resource})`);
    this.leaseMs = options.leaseMs ?? 5000;
    this.retryMs = options.retryMs ?? 1000;
    this.redlock = new Redlock([redis], { retryCount: 0, automaticExtensionThreshold: 2000 });
    // redlock reports every refused vote as an 'error' event; without a listener Node would throw.
    this.redlock.on('error', (error: unknown) => {
      if (!(error instanceof ResourceLockedError)) {
        this.logger.warn(`redlock: ${(error as Error).message}`);
      }
    });
  }

  /** Loops until `stop` aborts: waits for the lease, runs `work` while holding it. */
  async run(work: (lease: AbortSignal) => Promise<void>, stop: AbortSignal): Promise<void> {
    while (!stop.aborted) {
      try {
        await this.redlock.using([this.resource], this.leaseMs, async (lease) => {
          this.logger.log('lease taken: this process runs the singleton');
          // One signal for both reasons to stop: the lease was lost, or the process is stopping.
          const both = AbortSignal.any([lease, stop]);
          await work(both);
        });
      } catch (error) {
        if (!isLockBusy(error)) this.logger.warn(`singleton stopped: ${(error as Error).message}`);
      }
      if (!stop.aborted) await sleep(this.retryMs, stop);
    }
  }
}

function isLockBusy(error: unknown): boolean {
  const message = (error as Error)?.message ?? '';
  return (
    error instanceof ResourceLockedError || message.includes('quorum') || message.includes('locked')
  );
}
