/**
 * `npm run simulate`: seeded, replayable runs of a drop's life against the real scripts and
 * the real ledger, with faults between steps and the invariants after every step
 * (docs/simulation.md). Prints progress, each failing seed's shortest sequence, and the
 * coverage of transitions and faults.
 */
import { fork } from 'node:child_process';
import { defineCommand, Progress, runCommand } from '@flashdrop/cli';
import { TEST_SLOT } from '@flashdrop/testing';
import { Coverage, CoverageFloor, CoverageJson } from './coverage';
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
    'shortest sequence that still fails and printed with the command that replays it. At the ' +
    'end it prints how often each transition and fault ran, and with --min-coverage fails when ' +
    'one ran fewer times than asked.',
  flags: {
    seed: { type: 'integer', value: 'S', min: 0, description: 'run (replay) this one seed' },
    seeds: { type: 'integer', value: 'N', description: 'how many seeds to run (default 10)' },
    from: { type: 'integer', value: 'K', min: 0, description: 'the first seed (default 0)' },
    jobs: {
      type: 'integer',
      value: 'J',
      description:
        'split the seeds over J lanes run side by side (1-5, default 1; one lane per core), ' +
        'their coverage summed',
    },
    lane: {
      type: 'integer',
      value: 'L',
      min: 0,
      description:
        'run beside other runs of the same slot (0-4): a Redis port and a database of its own',
    },
    'min-coverage': {
      type: 'integer',
      value: 'N',
      description:
        'fail (exit 3) when a transition ran fewer than N times, or a fault fewer than ' +
        '--min-fault-coverage',
    },
    'min-fault-coverage': {
      type: 'integer',
      value: 'M',
      description: 'the least count of each fault (default a tenth of --min-coverage)',
    },
    'no-shrink': {
      type: 'boolean',
      description: 'print a failing seed as it failed, without shrinking it (quicker)',
    },
  },
  details: [
    'Exit codes: 0 every seed passed (and the coverage reached the floor asked), 1 a seed ' +
      'failed, 2 a bad command line, 3 every seed passed but the coverage fell short.',
    'Servers: the shared PostgreSQL of the test profile (TEST_SLOT), a Redis server of its own.',
  ],
  examples: [
    "npm run simulate -- --seeds 1000 --jobs 2 --min-coverage 1000   (the issue's thousand)",
    'npm run simulate -- --from 500 --seeds 500 --lane 1   (beside a run of seeds 0..499)',
    'npm run simulate -- --seed 4242',
  ],
});

/** Redis port base of `npm run simulate` (npm test's seeds use another: they may run at once). */
const REDIS_PORT_BASE = 6571;
/** Lanes a slot has room for (Redis ports 6571..6575 + 10 x slot; npm test's is 6581). */
const LANES = 5;
/** Set in a lane's environment by the run that forked it: send the result, print no report. */
const LANE_OF_PARENT = 'FLASHDROP_SIMULATE_LANE_OF_PARENT';

type SimulateFlags = {
  seed?: number;
  seeds?: number;
  from?: number;
  jobs?: number;
  lane?: number;
  'min-coverage'?: number;
  'min-fault-coverage'?: number;
  'no-shrink': boolean;
};

/** What a run of seeds found: the seeds that failed and what ran. */
interface RunResult {
  readonly failed: number[];
  readonly coverage: Coverage;
}

/** What a lane sends the run that forked it. */
interface LaneMessage {
  readonly failed: number[];
  readonly coverage: CoverageJson;
}

export async function simulate(flags: SimulateFlags): Promise<number> {
  if (flags.seed !== undefined && (flags.seeds !== undefined || flags.from !== undefined)) {
    throw new Error('--seed replays one seed: give it alone, or --seeds/--from');
  }
  const jobs = flags.jobs ?? 1;
  if (jobs > LANES) throw new Error(`--jobs is 1 to ${LANES}`);
  if (jobs > 1 && (flags.lane !== undefined || flags.seed !== undefined)) {
    throw new Error('--jobs picks the lanes itself: give it without --lane or --seed');
  }
  const lane = flags.lane ?? 0;
  if (lane >= LANES) throw new Error(`--lane is 0 to ${LANES - 1}`);
  if (flags['min-fault-coverage'] !== undefined && flags['min-coverage'] === undefined) {
    throw new Error('--min-fault-coverage goes with --min-coverage');
  }
  const floor: CoverageFloor | undefined =
    flags['min-coverage'] === undefined
      ? undefined
      : {
          transitions: flags['min-coverage'],
          faults: flags['min-fault-coverage'] ?? Math.ceil(flags['min-coverage'] / 10),
        };
  const first = flags.seed ?? flags.from ?? 0;
  const total = flags.seed !== undefined ? 1 : (flags.seeds ?? 10);
  const shrink = !flags['no-shrink'];
  const t0 = Date.now();

  if (process.env[LANE_OF_PARENT] === '1' && process.send) {
    const result = await runSeeds(first, total, lane, shrink, `lane ${lane}: seeds run`);
    const message: LaneMessage = { failed: result.failed, coverage: result.coverage.toJSON() };
    await new Promise<void>((done) => process.send!(message, () => done()));
    return result.failed.length === 0 ? 0 : 1;
  }

  const result =
    jobs > 1
      ? await runLanes(first, total, jobs, shrink)
      : await runSeeds(first, total, lane, shrink, 'seeds run');
  const { failed, coverage } = result;
  console.log(coverage.report());
  const short = floor ? coverage.shortfalls(floor) : [];
  const seconds = ((Date.now() - t0) / 1000).toFixed(0);
  console.log(
    `simulate: seeds ${first}..${first + total - 1}: ${total - failed.length} passed, ` +
      `${failed.length} failed (${seconds} s)` +
      (failed.length ? `; failing seeds: ${failed.join(' ')}` : '') +
      (floor
        ? short.length
          ? `; COVERAGE SHORT of ${floor.transitions} per transition and ${floor.faults} per ` +
            `fault: ${short.join(', ')}`
          : `; coverage at least ${floor.transitions} per transition and ${floor.faults} per fault`
        : ''),
  );
  if (failed.length > 0) return 1;
  return short.length > 0 ? 3 : 0;
}

/** Runs seeds first..first+total-1 in this process, on the lane's own Redis and database. */
async function runSeeds(
  first: number,
  total: number,
  lane: number,
  shrink: boolean,
  what: string,
): Promise<RunResult> {
  const world = await World.open({
    redisPortBase: REDIS_PORT_BASE + lane,
    databaseName: lane === 0 ? 'simulate' : `simulate_${lane}`,
    topicPrefix: `sim${TEST_SLOT}-${lane}.`,
  });
  const coverage = new Coverage();
  const failed: number[] = [];
  const progress = new Progress(what, total);
  try {
    for (let i = 0; i < total; i++) {
      const result = await runSeed(world, first + i, { shrink });
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
  return { failed, coverage };
}

/**
 * Splits the seeds into `jobs` runs of consecutive seeds, each a child process on a lane of its
 * own (lanes 0..jobs-1), and sums what they send back. Each lane prints its own progress and
 * its own failing seeds; a lane that ends without its result (it crashed) fails the run, once
 * the other lanes have ended.
 */
async function runLanes(
  first: number,
  total: number,
  jobs: number,
  shrink: boolean,
): Promise<RunResult> {
  const per = Math.ceil(total / jobs);
  const runs = Array.from({ length: jobs }, (_, lane) => ({
    lane,
    from: first + lane * per,
    seeds: Math.min(per, total - lane * per),
  })).filter((r) => r.seeds > 0);
  // Every lane runs to its end, even when one crashed: its seeds are checked all the same, and
  // no lane is left running after this process has exited.
  const settled = await Promise.allSettled(
    runs.map(
      (run) =>
        new Promise<RunResult>((resolve, reject) => {
          const argv = [
            '--from',
            `${run.from}`,
            '--seeds',
            `${run.seeds}`,
            '--lane',
            `${run.lane}`,
          ];
          const child = fork(__filename, shrink ? argv : [...argv, '--no-shrink'], {
            execArgv: process.execArgv,
            env: { ...process.env, [LANE_OF_PARENT]: '1' },
          });
          let message: LaneMessage | undefined;
          child.on('message', (m: LaneMessage) => (message = m));
          child.on('error', reject);
          child.on('exit', (code, signal) => {
            if (message) {
              resolve({ failed: message.failed, coverage: Coverage.fromJSON(message.coverage) });
            } else {
              reject(
                new Error(
                  `lane ${run.lane} (seeds ${run.from}..${run.from + run.seeds - 1}) ended ` +
                    `without its result (${signal ?? `exit ${code}`})`,
                ),
              );
            }
          });
        }),
    ),
  );
  const crashed = settled.flatMap((r) => (r.status === 'rejected' ? [String(r.reason)] : []));
  if (crashed.length > 0) throw new Error(crashed.join('; '));
  const results = settled.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
  const coverage = new Coverage();
  for (const r of results) coverage.merge(r.coverage);
  return { failed: results.flatMap((r) => r.failed).sort((a, b) => a - b), coverage };
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
