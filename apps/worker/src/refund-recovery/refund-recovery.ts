import { Injectable, Logger } from '@nestjs/common';
import { Inventory, REFUND_GRACE_MS } from '@flashdrop/inventory';
import { WalletClient } from '@flashdrop/wallet-client';
import { Singleton, TickingWork } from '../singleton/singleton';

/** At most this many refunds per drop per pass, so one pass stays short. */
const BATCH = 200;

export interface RefundRecoveryReport {
  readonly completed: number;
  /** Declined by the wallet (the brand's revenue cannot pay them): put back to paid. */
  readonly aborted: number;
  readonly failed: number;
}

/**
 * Finishes refunds a crash or a timeout left half-way (apps/wallet/PAYMENTS.md "Refunds"): an
 * order `refunding` for more than REFUND_GRACE_MS is refunded by the wallet (a reversing
 * transfer unique per order, so a refund that already moved the money answers `already` and
 * moves nothing) and then completed in Redis (idempotent), which frees its unit. Each refund is
 * asked as the attempt begin_refund named (its refundingSince, the zset's score): an attempt the
 * wallet declines (the brand's whole revenue cannot pay it) is declined for good, so the pass
 * puts the order back to paid (abort_refund.lua) as the API's caller would; two passes at once
 * (a lapsed lease) or a pass racing the API's own caller move the money once or abort once.
 */
@Singleton({ name: 'refund-recovery', leaseMs: 10_000, everyMs: 1_000 })
@Injectable()
export class RefundRecovery implements TickingWork {
  private readonly logger = new Logger(RefundRecovery.name);

  constructor(
    private readonly inventory: Inventory,
    private readonly wallet: WalletClient,
  ) {}

  tick(): Promise<RefundRecoveryReport> {
    return this.recoverOnce();
  }

  /** One pass over every drop; `graceMs` 0 finishes every refund under way (tests). */
  async recoverOnce(graceMs = REFUND_GRACE_MS): Promise<RefundRecoveryReport> {
    const before = (await this.inventory.now()) - graceMs;
    let completed = 0;
    let aborted = 0;
    let failed = 0;
    // A drop with a refund under way stays active (begin_refund revives it; retire_drop waits).
    for (const dropId of await this.inventory.activeDropIds()) {
      for (const { orderId, attempt } of await this.inventory.refundsUnderWay(
        dropId,
        before,
        BATCH,
      )) {
        try {
          const { outcome } = await this.wallet.refund({ orderId, attempt });
          if (outcome === 'declined') {
            // Declined for good: no call of this attempt will pay, so the order is paid again.
            const back = await this.inventory.abortRefund(orderId, attempt);
            if (!back.ok) throw new Error(`not abortable: ${back.code}`);
            aborted++;
            continue;
          }
          // A paid order always has its debit; without one the order stays refunding and
          // the audit reports it (the money never came in, so none goes out).
          if (outcome === 'not_paid') throw new Error('the wallet has no payment to refund');
          const done = await this.inventory.completeRefund(orderId);
          if (!done.ok) throw new Error(`not completable: ${done.code}`);
          completed++;
        } catch (e) {
          failed++;
          this.logger.warn(`could not finish the refund of ${orderId}: ${(e as Error).message}`);
        }
      }
    }
    if (completed + aborted + failed > 0) {
      this.logger.log(
        `refund recovery: ${completed} completed, ${aborted} declined and aborted, ${failed} failed`,
      );
    }
    return { completed, aborted, failed };
  }
}
