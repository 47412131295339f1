import { Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { RedisConnection } from '@flashdrop/persistence';
import Redlock from 'redlock';
import { PaymentRecoveryService } from './payment-recovery.service';

const LOCK_KEY = 'locks:payment-recovery';
const LOCK_TTL_MS = 10_000;
const EVERY_MS = 1_000;

/**
 * Runs the payment recovery every second in exactly one worker at a time (a redlock lease).
 * The lease only saves duplicate work: every step is idempotent and fenced, so an overlap
 * after a lapsed lease is harmless.
 */
@Injectable()
export class PaymentRecoveryJob implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(PaymentRecoveryJob.name);
  private readonly redlock: Redlock;
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;

  constructor(
    redis: RedisConnection,
    private readonly recovery: PaymentRecoveryService,
  ) {
    this.redlock = new Redlock([redis.client], { retryCount: 0 });
    // Redlock reports failed acquisitions as errors: expected while another worker leads.
    this.redlock.on('error', () => undefined);
  }

  onApplicationBootstrap(): void {
    this.timer = setInterval(() => {
      if (!this.running) this.running = this.tick().finally(() => (this.running = undefined));
    }, EVERY_MS);
  }

  async onApplicationShutdown(): Promise<void> {
    clearInterval(this.timer);
    await this.running;
  }

  private async tick(): Promise<void> {
    let lock;
    try {
      lock = await this.redlock.acquire([LOCK_KEY], LOCK_TTL_MS);
    } catch {
      return; // another worker holds the lease
    }
    try {
      await this.recovery.recoverOnce();
    } catch (e) {
      this.logger.warn(`payment recovery pass failed: ${(e as Error).message}`);
    } finally {
      await lock.release().catch(() => undefined);
    }
  }
}
