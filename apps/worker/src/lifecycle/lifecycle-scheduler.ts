import { Injectable } from '@nestjs/common';
import { Inventory } from '@flashdrop/inventory';
import { Singleton, TickingWork } from '../singleton/singleton';

const TERMINAL = new Set(['ended', 'cancelled']);

/**
 * The drop lifecycle scheduler: announces each phase change (drop.phase_changed) when a time
 * point passes (reservations open/close, sale start/end) or the stock runs out or comes back.
 * The phase is computed in Lua on Redis TIME and compared-and-set there, so two schedulers
 * never announce one change twice.
 */
@Singleton({ name: 'lifecycle', leaseMs: 3000, everyMs: 250 })
@Injectable()
export class LifecycleScheduler implements TickingWork {
  /** Drops whose phase can no longer change; not looked at again by this instance. */
  private readonly settled = new Set<string>();

  constructor(private readonly inventory: Inventory) {}

  tick(): Promise<number> {
    return this.syncOnce();
  }

  /** One pass; returns how many phase changes were announced. */
  async syncOnce(): Promise<number> {
    const drops = (await this.inventory.dropIds()).filter((d) => !this.settled.has(d));
    const results = await Promise.all(drops.map((d) => this.inventory.syncPhase(d)));
    let changed = 0;
    results.forEach((r, i) => {
      if (r?.changed) changed += 1;
      if (r && TERMINAL.has(r.phase)) this.settled.add(drops[i]);
    });
    return changed;
  }
}
