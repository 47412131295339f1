import { Injectable, Logger } from '@nestjs/common';
import { Inventory } from '@flashdrop/inventory';
import { Singleton, TickingWork } from '../singleton/singleton';

const BATCH = 500;

/**
 * The hold-expiry sweeper: every SWEEPER_INTERVAL_MS, for each drop whose earliest hold deadline
 * has passed (by Redis TIME), runs expire_due until no due hold is left, so units return to
 * stock within about one interval of the deadline.
 *
 * Exactly once: expire_due checks each order's status inside the script, so a second sweeper,
 * a cancel or a payment abort racing over the same hold cannot return its units twice. The
 * redlock lease only keeps the other instances idle. Deadlines are also enforced where they
 * matter without the sweeper (cancel and begin_payment refuse a hold past its deadline).
 * It also keeps the tokens of drops split into stock buckets (sweepBuckets).
 */
@Singleton({ name: 'hold-sweeper', leaseMs: 3000, everyMs: (c) => c.SWEEPER_INTERVAL_MS })
@Injectable()
export class HoldSweeper implements TickingWork {
  private readonly logger = new Logger(HoldSweeper.name);

  constructor(private readonly inventory: Inventory) {}

  tick(signal: AbortSignal): Promise<number> {
    return this.sweepOnce(signal);
  }

  /**
   * One pass over the active drops (a drop holding units is active); answers the units returned.
   * Stops between batches once `signal` aborts (the lease is about to run out unrenewed).
   */
  async sweepOnce(signal?: AbortSignal): Promise<number> {
    const [drops, now] = await Promise.all([this.inventory.activeDropIds(), this.inventory.now()]);
    const deadlines = await Promise.all(drops.map((d) => this.inventory.nextDeadline(d)));
    let units = 0;
    await Promise.all(
      drops.map(async (dropId, i) => {
        if (signal?.aborted) return;
        await this.sweepBuckets(dropId);
        const next = deadlines[i];
        if (next === undefined || next > now) return;
        while (!signal?.aborted) {
          const sweep = await this.inventory.expireDue(dropId, BATCH);
          units += sweep.unitsReturned;
          if (sweep.stalePaying.length > 0) {
            this.logger.warn(
              { dropId, orders: sweep.stalePaying },
              'payments past payingUntil wait for the payment recovery',
            );
          }
          if (sweep.badRecords.length > 0) {
            this.logger.error(
              { dropId, orders: sweep.badRecords },
              'live orders whose Redis record fails its check are left alone',
            );
          }
          if (sweep.scanned < BATCH) break;
        }
      }),
    );
    return units;
  }

  /**
   * A drop split into stock buckets: tokens a dead grab left in transit are settled, and units
   * back in stock get tokens (libs/inventory buckets.ts). Runs after expiry of the pass before,
   * so what expired here is issued within two intervals.
   */
  private async sweepBuckets(dropId: string): Promise<void> {
    const buckets = await this.inventory.buckets.countOf(dropId);
    if (buckets === undefined || buckets <= 1) return;
    const sweep = await this.inventory.buckets.sweep(dropId, buckets);
    if (sweep.spent + sweep.returned > 0) {
      this.logger.warn({ dropId, ...sweep }, 'settled bucket tokens a grab left in transit');
    }
  }
}
