import { eventually } from './api-client';
import { RequestLoad } from './request-load';

/** What a kill in the middle of a load met: the three phases a crash test must show. */
export interface KillPhases {
  /** Acknowledged for requests sent before the kill. */
  readonly before: number;
  /** Requests sent and not yet answered at the instant of the kill. */
  readonly inFlightAtKill: number;
  /** Acknowledged for requests sent after the restart. */
  readonly after: number;
}

export interface KillMidLoadOptions {
  /** Acknowledged before the kill (waited for). */
  readonly ackBefore: number;
  /** Acknowledged for requests sent after the restart (waited for). */
  readonly ackAfter: number;
  /** Checked just before the kill, polled until true: the state the kill must fall in. */
  readonly ready?: () => Promise<boolean>;
  readonly timeoutMs?: number;
}

/**
 * Kills in the middle of `load` (phases 'start' -> 'killed' -> 'restarted', see RequestLoad)
 * and restarts; stops the load. Throws unless the kill met writes acknowledged before it,
 * requests in flight at it and writes acknowledged after the restart: a crash test whose kill
 * fell before or after the traffic proves nothing, and must fail rather than pass.
 */
export async function killMidLoad<T>(
  load: RequestLoad<T>,
  kill: () => void | Promise<void>,
  restart: () => Promise<void>,
  options: KillMidLoadOptions,
): Promise<KillPhases> {
  const timeoutMs = options.timeoutMs ?? 30_000;
  try {
    const enough = await eventually(
      async () =>
        load.acknowledged.length >= options.ackBefore && (await (options.ready?.() ?? true)),
      timeoutMs,
      5,
    );
    if (!enough)
      throw new Error(`only ${load.acknowledged.length} acknowledged before the kill was due`);
    const inFlightAtKill = load.phase('killed');
    await kill();
    await restart();
    load.phase('restarted');
    const after = await eventually(
      async () => load.acknowledgedIn('restarted').length >= options.ackAfter,
      timeoutMs,
      20,
    );
    const phases = {
      before: load.acknowledgedIn('start').length,
      inFlightAtKill,
      after: load.acknowledgedIn('restarted').length,
    };
    if (!after)
      throw new Error(
        `only ${phases.after} acknowledged after the restart (${phasesLine(phases)})`,
      );
    if (inFlightAtKill === 0)
      throw new Error(`nothing in flight at the kill (${phasesLine(phases)})`);
    return phases;
  } finally {
    await load.stop();
  }
}

/** One line for the test's log. */
export function phasesLine(p: KillPhases): string {
  return (
    `${p.before} acknowledged before the kill, ${p.inFlightAtKill} in flight at it, ` +
    `${p.after} acknowledged after the restart`
  );
}
