// What a deadline on every Redis command costs the client: CPU per command of this process with
// no deadline, with ioredis' `commandTimeout` (a timer per command) and with the connection's
// sweep (libs/persistence command-deadline.ts), in interleaved rounds so drift hits all three.
// Each round sends `--commands` grab-sized script calls, `--in-flight` at a time, on an
// auto-pipelined connection as the API's is (one write per batch of concurrent commands).
//
//   TEST_SLOT=5 node -r ts-node/register/transpile-only -r tsconfig-paths/register \
//     load-tests/profile/deadline-cost.ts [--commands=100000] [--in-flight=100] [--rounds=5]
//
// It uses the slot's own Redis db (scripts/profile-env.js test) and one key of its own.
import Redis from 'ioredis';
import { createRedis } from '@flashdrop/persistence';
import { testProfileEnv } from '@flashdrop/testing';

const FLAGS = ['commands', 'in-flight', 'rounds'] as const;
const HELP = `usage: deadline-cost.ts [--commands=N] [--in-flight=N] [--rounds=N]
  --commands=N   script calls per variant and round (default 100000)
  --in-flight=N  calls in flight at once (default 100, the bench's connections)
  --rounds=N     interleaved rounds of the three variants (default 5)`;

function parseFlags(argv: readonly string[]): Record<(typeof FLAGS)[number], number> {
  const out: Record<string, number> = { commands: 100_000, 'in-flight': 100, rounds: 5 };
  for (const a of argv) {
    if (a === '--help' || a === '-h') {
      console.log(HELP);
      process.exit(0);
    }
    const m = /^--([a-z-]+)=(\d+)$/.exec(a);
    if (!m || !(FLAGS as readonly string[]).includes(m[1])) {
      console.error(`unknown flag ${a}\n${HELP}`);
      process.exit(2);
    }
    out[m[1]] = Number(m[2]);
  }
  return out as Record<(typeof FLAGS)[number], number>;
}

// As big as the grab's call: a script by sha, two keys, a few arguments, a short answer.
const SCRIPT = "return redis.call('INCR', KEYS[1])";

async function drive(redis: Redis, commands: number, inFlight: number): Promise<number> {
  const sha = String(await redis.script('LOAD', SCRIPT));
  let next = 0;
  const before = process.cpuUsage();
  const lane = async () => {
    while (next < commands) {
      next++;
      await redis.evalsha(sha, 2, 'deadline-cost:n', 'deadline-cost:m', 'fan-123456', '1', 'x');
    }
  };
  await Promise.all(Array.from({ length: inFlight }, lane));
  const used = process.cpuUsage(before);
  return (used.user + used.system) / commands;
}

async function main(): Promise<void> {
  const flags = parseFlags(process.argv.slice(2));
  const url = testProfileEnv().REDIS_URL;
  const variants: Record<string, Redis> = {
    'no deadline': createRedis(url, { connectionName: 'deadline-cost-none' }),
    "ioredis' commandTimeout (a timer per command)": new Redis(url, {
      enableAutoPipelining: true,
      commandTimeout: 5000,
      connectionName: 'deadline-cost-timer',
    }),
    'the sweep (command-deadline.ts)': createRedis(url, {
      commandDeadlineMs: 5000,
      connectionName: 'deadline-cost-sweep',
    }),
  };
  const costs: Record<string, number[]> = {};
  for (const [name, redis] of Object.entries(variants)) {
    costs[name] = [];
    await drive(redis, Math.ceil(flags.commands / 10), flags['in-flight']);
  }
  for (let round = 1; round <= flags.rounds; round++) {
    for (const [name, redis] of Object.entries(variants)) {
      costs[name].push(await drive(redis, flags.commands, flags['in-flight']));
    }
    console.error(`round ${round}/${flags.rounds} done`);
  }
  await variants['no deadline'].del('deadline-cost:n');
  for (const [name, redis] of Object.entries(variants)) {
    const sorted = [...costs[name]].sort((a, b) => a - b);
    const median = sorted[Math.floor(sorted.length / 2)];
    console.log(
      `${name.padEnd(48)} ${median.toFixed(2).padStart(6)} us per command (median of ${sorted.length}; ` +
        `${sorted.map((c) => c.toFixed(2)).join(' ')})`,
    );
    await redis.quit();
  }
}

void main();
