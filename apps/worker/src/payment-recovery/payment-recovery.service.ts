import { Injectable, Logger } from '@nestjs/common';
import { Singleton, TickingWork } from '../singleton/singleton';
import { WalletClient } from '@flashdrop/wallet-client';
import { Inventory } from '@flashdrop/inventory';

/** Orders due within this much are looked at: expire_due re-schedules a stale one ~5 s ahead. */
const LOOKAHEAD_MS = 10_000;
/** At most this many orders per drop per pass, so one pass stays short. */
const BATCH = 500;

export interface RecoveryReport {
  readonly completed: number;
  readonly aborted: number;
  readonly failed: number;
}

/**
 * Finishes payments left half-way (apps/wallet/PAYMENTS.md "Recovery after a crash"): an order
 * still `paying` after its `payingUntil` is settled with the wallet. Debited -> complete_payment;
 * not debited -> the wallet has fenced the attempt off (voided), so abort_payment is safe: no
 * debit for that attempt can land afterwards. Every step is idempotent and the abort names its
 * attempt, so two passes running at once (a lock that lapsed) cannot do harm.
 */
@Singleton({ name: 'payment-recovery', leaseMs: 10_000, everyMs: 1_000 })
@Injectable()
export class PaymentRecoveryService implements TickingWork {
  private readonly logger = new Logger(PaymentRecoveryService.name);

  constructor(
    private readonly inventory: Inventory,
    private readonly wallet: WalletClient,
  ) {}

  /**
   * Every second in exactly one worker at a time. The lease only saves duplicate work: every
   * step is idempotent and fenced, so an overlap after a lapsed lease is harmless.
   */
  tick(): Promise<RecoveryReport> {
    return this.recoverOnce();
  }

  /** One pass over the active drops (an order `paying` is a hold: its drop is active). */
  async recoverOnce(): Promise<RecoveryReport> {
    const now = await this.inventory.now();
    const totals = { completed: 0, aborted: 0, failed: 0 };
    for (const dropId of await this.inventory.activeDropIds()) {
      const stale = await this.inventory.stalePaying(dropId, now, LOOKAHEAD_MS, BATCH);
      const report = await this.settle(stale);
      totals.completed += report.completed;
      totals.aborted += report.aborted;
      totals.failed += report.failed;
    }
    if (totals.completed + totals.aborted + totals.failed > 0) {
      this.logger.log(`payment recovery: ${JSON.stringify(totals)}`);
    }
    return totals;
  }

  /** Settles the given orders (e.g. the sweeper's `stalePaying`); skips any no longer stale. */
  async settle(orderIds: readonly string[]): Promise<RecoveryReport> {
    let completed = 0;
    let aborted = 0;
    let failed = 0;
    for (const orderId of orderIds) {
      try {
        const order = await this.inventory.getOrder(orderId);
        if (order?.status !== 'paying' || order.payingUntil === undefined) continue;
        if (order.payingUntil > (await this.inventory.now())) continue;
        const { outcome } = await this.wallet.settle({ orderId, attempt: order.payingUntil });
        if (outcome === 'debited') {
          const done = await this.inventory.completePayment(orderId);
          if (!done.ok) throw new Error(`debited order ${orderId} not completable: ${done.code}`);
          completed++;
        } else {
          await this.inventory.abortPayment(orderId, order.payingUntil);
          aborted++;
        }
      } catch (e) {
        failed++;
        this.logger.warn(`could not settle ${orderId}: ${(e as Error).message}`);
      }
    }
    return { completed, aborted, failed };
  }
}
