import { Injectable, OnApplicationShutdown } from '@nestjs/common';
import { Inventory } from '@flashdrop/inventory';
import { Singleton, TickingWork } from '../singleton/singleton';

/** How often pending reservation counts are announced: the dashboard's lag for them. */
export const RESERVATION_COUNT_INTERVAL_MS = 250;

/**
 * Announces reservations in aggregate: every RESERVATION_COUNT_INTERVAL_MS, for each drop, runs
 * count_reservations.lua, which turns the reservations counted since the last pass into one
 * reservation.counted event (libs/inventory reserve.lua writes none per reservation without a
 * referrer). The count lives in Redis beside the reservations it counts, written by the same
 * script, so a crash of this process (or of the API) loses nothing: the next pass of any
 * instance announces it. The lease only keeps the other instances idle; two passes at once
 * would still announce each reservation once.
 */
@Singleton({ name: 'reservation-counter', leaseMs: 3000, everyMs: RESERVATION_COUNT_INTERVAL_MS })
@Injectable()
export class ReservationCounter implements TickingWork, OnApplicationShutdown {
  /** Drops that take no more reservations and had none pending: not counted again here. */
  private readonly settled = new Set<string>();

  constructor(private readonly inventory: Inventory) {}

  tick(): Promise<number> {
    return this.countOnce();
  }

  /** Runs after SingletonsModule stopped the loop (beforeApplicationShutdown). */
  async onApplicationShutdown(): Promise<void> {
    // A graceful stop announces what is pending now rather than leaving it to the next worker.
    await this.countOnce();
  }

  /** One pass over every drop still open to reservations; returns how many were announced. */
  async countOnce(): Promise<number> {
    const drops = (await this.inventory.activeDropIds()).filter((d) => !this.settled.has(d));
    const results = await Promise.all(drops.map((d) => this.inventory.countReservations(d)));
    let counted = 0;
    results.forEach((r, i) => {
      counted += r.counted;
      if (!r.open && r.counted === 0) this.settled.add(drops[i]);
    });
    return counted;
  }
}
