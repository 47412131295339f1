import { FlashdropConfig } from '@flashdrop/config';

/** Work that runs in short passes: one `tick` per interval while this instance holds the lease. */
export interface TickingWork {
  /**
   * One pass; must finish well within the lease. A failed pass is logged and retried. `signal`
   * aborts when the lease is about to run out unrenewed: a long pass stops writing then.
   */
  tick(signal: AbortSignal): Promise<unknown>;
}

/**
 * Long-running work (a relay's read-send-acknowledge loop): runs as long as the lease is held,
 * and must return at once when `signal` aborts (lease lost, or the worker stops).
 */
export interface LeadingWork {
  lead(signal: AbortSignal): Promise<unknown>;
}

export type SingletonWork = TickingWork | LeadingWork;

/** How one worker singleton runs; its lease is `locks:<name>` (SingletonLoop's key family). */
export interface SingletonSchedule {
  /** One holder of this name across every worker instance. */
  readonly name: string;
  /** Lease length: how long a dead holder keeps the others waiting. */
  readonly leaseMs: number;
  /** Pause between ticks; for leading work, how often a follower tries to take the lease. */
  readonly everyMs: number | ((config: FlashdropConfig) => number);
  /** Whether this worker runs it at all (e.g. `RELAYS`); always when absent. */
  readonly enabled?: (config: FlashdropConfig) => boolean;
}

const SCHEDULE = Symbol('flashdrop:singleton');

/**
 * Declares a provider a worker singleton: it implements `tick()` or `lead(signal)`, and
 * SingletonsModule runs it under its lease. Nothing else in the class knows about leases.
 */
export function Singleton(schedule: SingletonSchedule): ClassDecorator {
  return (target) => {
    Reflect.defineMetadata(SCHEDULE, schedule, target);
  };
}

export function scheduleOf(target: object): SingletonSchedule {
  const schedule = Reflect.getMetadata(SCHEDULE, target) as SingletonSchedule | undefined;
  if (!schedule)
    throw new Error(`${String((target as { name?: string }).name)} is not a @Singleton`);
  return schedule;
}
