/**
 * `npm run simulate`: seeded, replayable runs of a drop's life against the real scripts and
 * the real ledger, with faults between steps and the invariants after every step
 * (docs/simulation.md). Prints progress, each failing seed's shortest sequence, and the
 * coverage of transitions and faults.
 */
import { defineCommand, Progress, runCommand } from '@flashdrop/cli';
import { TEST_SLOT } from '@flashdrop/testing';
import { Coverage } from './coverage';
import { runSeed } from './simulate';
import { closeTruncator, World } from './world';

export const simulateCommand = defineCommand({
  usage: 'npm run simulate --',
  title: 'seeded simulation of a drop: random steps and faults, invariants after each step',
  summary:
    'Runs seeds of the simulation: each seed draws a drop and up to 150 steps (reserve, share, ' +
    'grab, cancel, pay once, repeated and concurrently, expiry by the clock and by the sweeper, ' +
    'waitlist, backfill, draw, pause and resume, credits, recovery) with faults between them ' +
    '(a lost reply and its retry, a payer killed between its Redis step and the debit or after ' +
    'the debit, order persistence re-reading its stream, the clock past a deadline), against a ' +
    'Redis server of its own and a database of its own, and checks the invariants after every ' +
    "step (the audit's checks of the drop plus the model's). A failing seed is shrunk to the " +
    'shortest sequence that still fails and printed with the command that replays it.',
  flags: {
    seed: { type: 'integer', value: 'S', min: 0, description: 'run (replay) this one seed' },
    seeds: { type: 'integer', value: 'N', description: 'how many seeds to run (default 10)' },
    from: { type: 'integer', value: 'K', min: 0, description: 'the first seed (default 0)' },
    lane: {
      type: 'integer',
      value: 'L',
      min: 0,
      description:
        'run beside other runs of the same slot (0-4): a Redis port and a database of its own',
    },
    'no-shrink': {
      type: 'boolean',
      description: 'print a failing seed as it failed, without shrinking it (quicker)',
    },
  },
  details: [
    'Exit codes: 0 every seed passed, 1 a seed failed, 2 a bad command line.',
    'Servers: the shared PostgreSQL of the test profile (TEST_SLOT), a Redis server of its own.',
  ],
  examples: [
    'npm run simulate -- --seeds 1000',
    'npm run simulate -- --from 500 --seeds 500 --lane 1   (beside a run of seeds 0..499)',
    'npm run simulate -- --seed 4242',
  ],
});

/** Redis port base of `npm run simulate` (npm test's seeds use another: they may run at once). */
const REDIS_PORT_BASE = 6571;

export async function simulate(flags: {
  seed?: number;
  seeds?: number;
  from?: number;
  lane?: number;
  'no-shrink': boolean;
}): Promise<number> {
  if (flags.seed !== undefined && (flags.seeds !== undefined || flags.from !== undefined)) {
    throw new Error('--seed replays one seed: give it alone, or --seeds/--from');
  }
  const first = flags.seed ?? flags.from ?? 0;
  const total = flags.seed !== undefined ? 1 : (flags.seeds ?? 10);
  const lane = flags.lane ?? 0;
  if (lane > 4) throw new Error('--lane is 0 to 4');
  const world = await World.open({
    redisPortBase: REDIS_PORT_BASE + lane,
    databaseName: lane === 0 ? 'simulate' : `simulate_${lane}`,
    topicPrefix: `sim${TEST_SLOT}-${lane}.`,
  });
  const coverage = new Coverage();
  const failed: number[] = [];
  const progress = new Progress('seeds run', total);
  const t0 = Date.now();
  try {
    for (let i = 0; i < total; i++) {
      const result = await runSeed(world, first + i, { shrink: !flags['no-shrink'] });
      coverage.merge(result.coverage);
      if (!result.ok) {
        failed.push(result.seed);
        console.log(result.failure);
      }
      progress.tick(i + 1);
    }
  } finally {
    await world.close();
    await closeTruncator();
  }
  console.log(coverage.report());
  console.log(
    `simulate: seeds ${first}..${first + total - 1}: ${total - failed.length} passed, ` +
      `${failed.length} failed (${((Date.now() - t0) / 1000).toFixed(0)} s)` +
      (failed.length ? `; failing seeds: ${failed.join(' ')}` : ''),
  );
  return failed.length === 0 ? 0 : 1;
}

if (require.main === module) {
  runCommand(simulateCommand, process.argv.slice(2), simulate).then(
    (code) => process.exit(code),
    (error: unknown) => {
      console.error(error instanceof Error ? error.message : String(error));
      process.exit(1);
    },
  );
}
