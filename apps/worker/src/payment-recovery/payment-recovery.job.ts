import { Injectable, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { RedisConnection } from '@flashdrop/persistence';
import { Leases } from '../singleton/leases';
import { createRedlock, SingletonLoop } from '../singleton/singleton-loop';
import { PaymentRecoveryService } from './payment-recovery.service';

/**
 * Runs the payment recovery every second in exactly one worker at a time (the worker's
 * SingletonLoop lease, like the sweeper's). The lease only saves duplicate work: every step is
 * idempotent and fenced, so an overlap after a lapsed lease is harmless.
 */
@Injectable()
export class PaymentRecoveryJob implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly loop: SingletonLoop;

  constructor(
    redis: RedisConnection,
    private readonly recovery: PaymentRecoveryService,
  ) {
    this.loop = new SingletonLoop(createRedlock(redis.client), {
      resource: Leases.paymentRecovery,
      leaseMs: 10_000,
      intervalMs: 1_000,
      // A failed pass is logged by the loop and retried on the next tick.
      tick: () => this.recovery.recoverOnce(),
    });
  }

  onApplicationBootstrap(): void {
    this.loop.start();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.loop.stop();
  }
}
