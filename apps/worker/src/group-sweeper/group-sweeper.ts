import { Injectable, Logger } from '@nestjs/common';
import { GroupSettlement, Inventory } from '@flashdrop/inventory';
import { WalletClient } from '@flashdrop/wallet-client';
import { Singleton, TickingWork } from '../singleton/singleton';

/** At most this many groups per drop per pass, so one pass stays short. */
const BATCH = 200;

export interface GroupSweepReport {
  readonly completed: number;
  readonly failed: number;
  readonly failing: number;
  readonly errors: number;
}

/**
 * Group buy's clock and its recovery (libs/inventory README "Group buy"). Every second, for
 * every active drop, each unfinished group that is due, earliest first: an open group past its
 * deadline fails (its paid members refunded from escrow, its holds expired, its units down the
 * line), a group still failing is taken further (a member that was paying at the deadline is
 * refunded once its payment settled), and a group left `completing` by a payer that died is
 * completed. The clock is Redis's and runs whatever the sale's phase: through a pause and past
 * saleEndsAt. The fence in Redis decides complete or fail once; every step after it is safe to
 * repeat (GroupSettlement), so two sweepers (a lapsed lease) or a sweeper racing the payer move
 * the money once.
 */
@Singleton({ name: 'group-sweeper', leaseMs: 10_000, everyMs: 1_000 })
@Injectable()
export class GroupSweeper implements TickingWork {
  private readonly logger = new Logger(GroupSweeper.name);
  private readonly settlement: GroupSettlement;

  constructor(
    private readonly inventory: Inventory,
    wallet: WalletClient,
  ) {
    this.settlement = new GroupSettlement(inventory, wallet);
  }

  tick(): Promise<GroupSweepReport> {
    return this.sweepOnce();
  }

  /** One pass over every active drop's due groups. */
  async sweepOnce(): Promise<GroupSweepReport> {
    const now = await this.inventory.now();
    let completed = 0;
    let failed = 0;
    let failing = 0;
    let errors = 0;
    // A drop with an unfinished group is never retired (retire_drop waits for its groups).
    for (const dropId of await this.inventory.activeDropIds()) {
      for (const groupId of await this.inventory.unfinishedGroups(dropId, now, BATCH)) {
        try {
          const settled = await this.settlement.settle(dropId, groupId);
          if (settled === 'complete') completed++;
          if (settled === 'failed') failed++;
          if (settled === 'failing') failing++;
        } catch (e) {
          errors++;
          this.logger.warn(`group ${groupId} of ${dropId}: ${(e as Error).message}`);
        }
      }
    }
    if (completed + failed + errors > 0) {
      this.logger.log(
        `group sweep: ${completed} completed, ${failed} failed, ${failing} failing, ${errors} errors`,
      );
    }
    return { completed, failed, failing, errors };
  }
}
