import { Injectable, Logger } from '@nestjs/common';
import { Inventory } from '@flashdrop/inventory';
import { Singleton, TickingWork } from '../singleton/singleton';

const TERMINAL = new Set(['ended', 'cancelled']);
/** How often every indexed drop is checked against the active index (Inventory.reconcileActive). */
const RECONCILE_EVERY_MS = 5 * 60_000;

/**
 * The drop lifecycle scheduler: announces each phase change (drop.phase_changed) when a time
 * point passes (reservations open/close, sale start/end) or the stock runs out or comes back.
 * The phase is computed in Lua on Redis TIME and compared-and-set there, so two schedulers
 * never announce one change twice. It also hands down units parked by a pause once the drop is
 * no longer paused (the API does it at the resume; this covers a resume whose caller died, and a
 * sale that ended while paused).
 *
 * It also keeps the active index (Inventory.activeDropIds) short: a drop whose phase is final
 * is retired once it holds nothing and its outbox is read (Inventory.retireIfDone), so what
 * every background loop walks follows the open drops, not every drop ever created. At its
 * first pass and every few minutes it puts back any drop a crash left out of the index.
 */
@Singleton({ name: 'lifecycle', leaseMs: 3000, everyMs: 250 })
@Injectable()
export class LifecycleScheduler implements TickingWork {
  private readonly logger = new Logger(LifecycleScheduler.name);
  private reconciledAt = 0;

  constructor(private readonly inventory: Inventory) {}

  tick(): Promise<number> {
    return this.syncOnce();
  }

  /** One pass over the active drops; returns how many phase changes were announced. */
  async syncOnce(): Promise<number> {
    if (Date.now() - this.reconciledAt >= RECONCILE_EVERY_MS) {
      const added = await this.inventory.reconcileActive();
      if (added > 0) this.logger.warn(`${added} drops were out of the active index; put back`);
      this.reconciledAt = Date.now();
    }
    const drops = await this.inventory.activeDropIds();
    const results = await Promise.all(drops.map((d) => this.inventory.syncPhase(d)));
    let changed = 0;
    const finished: string[] = [];
    const parked: string[] = [];
    results.forEach((r, i) => {
      if (r?.changed) changed += 1;
      if (r && r.parked > 0 && r.phase !== 'paused') parked.push(drops[i]);
      else if (r && TERMINAL.has(r.phase)) finished.push(drops[i]);
    });
    await Promise.all(parked.map((d) => this.inventory.handDownParked(d)));
    await Promise.all(finished.map((d) => this.inventory.retireIfDone(d)));
    return changed;
  }
}
