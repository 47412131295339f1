// `npm run bench` (through load-tests/bench.sh, which starts the bench stack first): every
// scenario and its floor in one run, one table printed and written to load-tests/RESULTS.md.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { join } from 'node:path';
import Redis from 'ioredis';
import { FlashdropConfig, loadConfig } from '@flashdrop/config';
import { Inventory } from '@flashdrop/inventory';
import { overload } from '../scenarios/overload';
import { peers } from '../scenarios/peers';
import { phoneRush, scalePhoneRush } from '../scenarios/phone-rush';
import { reservationWave } from '../scenarios/reservation-wave';
import { RunContext } from './context';
import { pidFromFile, redisPid } from './cpu';
import { DriveResult } from './load';
import { PeerProcess, REPO_ROOT } from './processes';
import { Machine, prependRun, renderRun, renderTable } from './report';
import { CampaignResult, campaignRows, runCampaign } from './run-campaign';
import { CarResult, runCar } from './run-car';
import { DrawResult, drawRows, runDraw } from './run-draw';
import { OverloadResult, overloadRows, runOverload, RushWindow } from './run-overload';
import { phoneDraw, scalePhoneDraw } from '../scenarios/phone-draw';
import { PaymentsResult, runPayments } from './run-payments';
import { NaiveResult, runFloor, runHello, runNaive } from './run-peers';
import { PhoneResult, RushResult, runPhone } from './run-phone';
import { ReservationWaveResult, runReservationFloor, runReservationWave } from './run-reservations';
import { tableRows } from './rows';
import { renderStages, StageSource, withStages } from './stages';
import { runSteadyFloor, runSteadyStack } from './run-steady';
import { fanTokens, routeExists, sleep, Stack } from './stack';
import { generatorFor } from './drivers/generators';
import { CpuProfile, inclusive, summarize } from '../profile/summarize';

// Above every test slot's ports (libs/testing slotPort: up to ~3520), so a bench never takes one.
/** The campaign step's rushes, as a share of the phone rush's size (four of them run). */
const CAMPAIGN_SCALE = 0.25;
const PORTS = { floor: 3610, naive: 3611, hello: 3612, overload: 3613 };

const STEPS = [
  'hello',
  'wave',
  'floor',
  'phone',
  'campaign',
  'steady',
  'naive',
  'payments',
  'car',
  'draw',
  'overload',
] as const;
const USAGE = `Usage: npm run bench -- [--full] [--scale=F] [--only=STEP,...] [--help]
  --full       the reservation wave and the draw at their real size (1.3 M fans; default
               ${reservationWave.benchScale} of the wave, ${phoneDraw.benchScale} of the draw)
  --scale=F    the phone rush (and what follows from it) scaled by F, e.g. 0.1 for a quick look
  --only=...   a subset of ${STEPS.join(',')}; the rest print n/a
               (each stack step measures its floor beside it: wave, phone (with floor), steady, payments;
               campaign measures the grab with a tier and a share discount beside the plain grab)
Env: BENCH_GENERATOR=autocannon drives every run with the fallback generator.`;

interface Flags {
  readonly full: boolean;
  readonly scale: number;
  readonly only?: ReadonlySet<string>;
}

/** The runner's flags; exits with the usage on --help, with a message on anything unknown. */
function parseFlags(argv: readonly string[]): Flags {
  let full = false;
  let scale = 1;
  let only: Set<string> | undefined;
  for (const arg of argv) {
    const [name, value] = arg.split('=', 2);
    if (name === '--help' || name === '-h') {
      console.log(USAGE);
      process.exit(0);
    } else if (name === '--full' && value === undefined) {
      full = true;
    } else if (name === '--scale' && value !== undefined && Number(value) > 0) {
      scale = Number(value);
    } else if (name === '--only' && value) {
      only = new Set(value.split(','));
      const unknown = [...only].filter((s) => !(STEPS as readonly string[]).includes(s));
      if (unknown.length) fail(`unknown step(s) ${unknown.join(', ')}`);
    } else {
      fail(`unknown or malformed argument ${arg}`);
    }
  }
  return { full, scale, only };
}

function fail(message: string): never {
  console.error(`bench: ${message}\n${USAGE}`);
  process.exit(2);
}

interface ProfileEnvModule {
  profileEnv(profile: string, slot: number): Record<string, string>;
}

async function main(): Promise<void> {
  const flags = parseFlags(process.argv.slice(2));
  if (process.env.BENCH_CHECK_FLAGS === '1') return;
  const wants = (step: string) => !flags.only || flags.only.has(step);
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- the plain JS script bash uses too
  const { profileEnv } = require(join(REPO_ROOT, 'scripts/profile-env.js')) as ProfileEnvModule;
  const env = profileEnv('bench', 0);
  const config = loadConfig(FlashdropConfig, env);
  const stack: Stack = {
    origin: `http://127.0.0.1:${config.API_PORT}`,
    jwtSecret: config.JWT_SECRET,
  };
  const floorRedisUrl = config.REDIS_URL.replace(/\/\d+$/, '/1');
  const redis = new Redis(config.REDIS_URL);
  const floorRedis = new Redis(floorRedisUrl, { enableAutoPipelining: true });
  await floorRedis.flushdb();
  const run = Date.now().toString(36);
  const t0 = Date.now();
  const log = (line: string) =>
    console.log(`[bench ${((Date.now() - t0) / 1000).toFixed(0).padStart(3)}s] ${line}`);
  const ctx: RunContext = { stack, redis, run, log };
  const machine = machineFacts();
  const notes: string[] = [];
  const logDir = join(process.env.FLASHDROP_DATA_DIR ?? join(REPO_ROOT, '.data'), 'run');

  const peerProcs = {
    hello: new PeerProcess('hello', PORTS.hello, {}, join(logDir, 'bench-peer-hello.log')),
    floor: new PeerProcess(
      'floor',
      PORTS.floor,
      // The payment floor's own database: its money never meets the stack's.
      { REDIS_URL: floorRedisUrl, FLOOR_DATABASE_URL: `${config.DATABASE_URL}_floor` },
      join(logDir, 'bench-peer-floor.log'),
    ),
    naive: new PeerProcess(
      'naive',
      PORTS.naive,
      { DATABASE_URL: config.DATABASE_URL },
      join(logDir, 'bench-peer-naive.log'),
    ),
  };

  const { quantity, fans } = scalePhoneRush(flags.scale);
  let tokens: string[] = [];
  let hello: DriveResult | undefined;
  let wave: ReservationWaveResult | undefined;
  let floorWave: ReservationWaveResult | undefined;
  let floor: RushResult | undefined;
  let phone: PhoneResult | undefined;
  let naive: NaiveResult | undefined;
  let steady: { rate: number; stack?: RushResult; floor?: RushResult } | undefined;
  const steadyStages: string[] = [];
  let pay: PaymentsResult | undefined;
  let floorPay: PaymentsResult | undefined;
  let car: CarResult | undefined;
  let draw: DrawResult | undefined;
  let campaign: CampaignResult | undefined;
  let overloaded: OverloadResult | undefined;

  const step = async (name: string, fn: () => Promise<void>) => {
    if (!wants(name)) return;
    log(`${name}: start (load ${loadavg()[0].toFixed(2)})`);
    try {
      await fn();
    } catch (e) {
      const message = e instanceof Error ? e.message : String(e);
      notes.push(`${name} did not complete: ${message}`);
      log(`${name}: FAILED ${message}`);
    }
  };

  try {
    await Promise.all(
      Object.values(peerProcs).map((p) => p.start(p.name === 'hello' ? '/' : '/health')),
    );
    const signStart = Date.now();
    tokens = fanTokens(stack, run, fans);
    log(`${fans} fan tokens signed in ${((Date.now() - signStart) / 1000).toFixed(1)} s`);

    await step('hello', async () => {
      hello = await runHello(peerProcs.hello);
    });
    const apiReady = await routeExists(stack, 'POST', '/v1/drops');
    if (!apiReady) notes.push('the drop routes are not on this commit: the stack rows are n/a');
    await step('wave', async () => {
      const count = Math.round(
        reservationWave.fans * (flags.full ? 1 : reservationWave.benchScale) * flags.scale,
      );
      const waveTokens = fanTokens(stack, `${run}w`, count);
      const maxSeconds = flags.full ? 240 : 45;
      // The floor first, then the stack: the same fans, the same generator, a minute apart.
      floorWave = await runReservationFloor(
        ctx,
        peerProcs.floor,
        floorRedis,
        waveTokens,
        maxSeconds,
      );
      log(`wave: floor ${floorWave.drive.rate.toFixed(0)}/s; the stack next`);
      if (!apiReady) return;
      wave = await runReservationWave(
        ctx,
        waveTokens,
        maxSeconds,
        { api: apiPid(), redis: await redisPid(redis), others: otherStackPids() },
        profileRush('api', apiPid(), log, 'reservation'),
      );
    });
    await step('floor', async () => {
      floor = await runFloor(
        ctx,
        peerProcs.floor,
        floorRedis,
        run,
        tokens,
        quantity,
        60,
        profileRush('floor', peerProcs.floor.pid, log),
      );
    });
    await step('phone', async () => {
      if (!apiReady) return;
      const seedRedis = new Redis(config.REDIS_URL, { enableAutoPipelining: true });
      try {
        phone = await runPhone(
          ctx,
          tokens,
          quantity,
          wave?.drive.rate ?? 1_500,
          60,
          profileRushes([
            profileRush('api', apiPid(), log),
            // The event pipeline's share of the cores during the rush: where it goes.
            profileRush('worker', servicePid('worker'), log),
            profileRush('analytics', servicePid('analytics'), log),
          ]),
          { server: apiPid(), redis: await redisPid(redis), others: otherStackPids() },
          // As in a sale, the fans reserve through the API in the window (sized from the wave's
          // rate), so its verified-token cache holds their tokens at the rush; without a wave
          // rate to size the window, the reservations are seeded straight into Redis.
          wave ? undefined : { inventory: new Inventory(seedRedis), run },
        );
      } finally {
        seedRedis.disconnect();
      }
    });
    await step('campaign', async () => {
      if (!apiReady) return;
      // A quarter of the phone rush (at scale 1: 60,000 fans, 12,500 units), four rushes.
      const sized = scalePhoneRush(flags.scale * CAMPAIGN_SCALE);
      const seedRedis = new Redis(config.REDIS_URL, { enableAutoPipelining: true });
      try {
        campaign = await runCampaign(
          ctx,
          new Inventory(seedRedis),
          sized.fans,
          sized.quantity,
          60,
          {
            server: apiPid(),
            redis: await redisPid(redis),
          },
        );
      } finally {
        seedRedis.disconnect();
      }
    });
    await step('steady', async () => {
      const s = phoneRush.steady;
      const rate = Math.round(floor ? floor.drive.rate * s.floorShare : s.fallbackRate);
      steady = { rate };
      log(`steady: ${rate}/s for ${s.seconds} s, the floor first`);
      // Where the tail goes: each run's stages (runner/stages.ts), read around it.
      const floorSources: StageSource[] = [
        { name: 'floor', url: `${peerProcs.floor.origin}/stages`, kind: 'floor' },
      ];
      steady.floor = await runSteadyFloor(
        ctx,
        peerProcs.floor,
        floorRedis,
        tokens,
        rate,
        await redisPid(floorRedis),
        async (run) => {
          const { result, stages } = await withStages(floorSources, floorRedis, run);
          steadyStages.push(renderStages('Stages of the steady run, floor', stages));
          return result;
        },
      );
      if (!apiReady) return;
      const metrics = (port: number) => `http://127.0.0.1:${port}/metrics`;
      const stackSources: StageSource[] = [
        {
          name: 'API',
          url: metrics(config.API_PORT),
          kind: 'prometheus',
          route: phoneRush.grab.path.replace('{dropId}', ':id'),
        },
        { name: 'worker', url: metrics(config.WORKER_HTTP_PORT), kind: 'prometheus' },
        { name: 'analytics', url: metrics(config.ANALYTICS_HTTP_PORT), kind: 'prometheus' },
      ];
      steady.stack = await runSteadyStack(
        ctx,
        tokens,
        rate,
        { server: apiPid(), redis: await redisPid(redis), others: otherStackPids() },
        async (run) => {
          const { result, stages } = await withStages(stackSources, redis, run);
          steadyStages.push(renderStages('Stages of the steady run, stack', stages));
          return result;
        },
      );
    });
    await step('naive', async () => {
      const scaled = scalePhoneRush(flags.scale * peers.naive.scale);
      naive = await runNaive(
        peerProcs.naive,
        tokens.slice(0, scaled.fans),
        scaled.quantity,
        peers.naive.maxSeconds,
      );
    });
    await step('payments', async () => {
      if (phone && phone.rush.winners.length > 0) {
        if (await routeExists(stack, 'POST', '/v1/orders/x/payment')) {
          pay = await runPayments(ctx, run, phone.rush.winners, tokens, 60, stack.origin, {
            server: apiPid(),
            redis: await redisPid(redis),
            others: otherStackPids(),
          });
        } else {
          notes.push('the payment route is not on this commit: payments are n/a');
        }
      }
      // The payment floor pays the floor rush's own held orders, funded by its own credits.
      if (floor && floor.winners.length > 0) {
        floorPay = await runPayments(ctx, run, floor.winners, tokens, 60, peerProcs.floor.origin, {
          server: peerProcs.floor.pid,
          redis: await redisPid(floorRedis),
        });
      }
    });
    await step('car', async () => {
      if (!apiReady || !(await routeExists(stack, 'POST', '/v1/orders/x/payment'))) return;
      car = await runCar(ctx);
    });
    await step('draw', async () => {
      if (!apiReady || !(await routeExists(stack, 'POST', '/v1/drops/x/waitlist'))) return;
      const sized = scalePhoneDraw((flags.full ? 1 : phoneDraw.benchScale) * flags.scale);
      const seedRedis = new Redis(config.REDIS_URL, { enableAutoPipelining: true });
      try {
        draw = await runDraw(ctx, new Inventory(seedRedis), sized.entrants, sized.quantity, 300);
      } finally {
        seedRedis.disconnect();
      }
    });
    await step('overload', async () => {
      if (!apiReady) return;
      // The same fans on each side's own drop; the bound is the API's default setting.
      overloaded = await runOverload(
        ctx,
        fanTokens(stack, `${run}o`, overload.fans),
        config.API_MAX_IN_FLIGHT,
        PORTS.overload,
        env,
        join(logDir, 'bench-overload-api.log'),
        process.env.BENCH_PROFILE === '1'
          ? {
              preload: join(REPO_ROOT, 'load-tests/profile/cpu-profile-preload.js'),
              of: (name, pid) => profileRush(name, pid, log),
            }
          : undefined,
      );
    });
  } finally {
    await Promise.all(Object.values(peerProcs).map((p) => p.stop()));
    redis.disconnect();
    floorRedis.disconnect();
  }

  const rows = [
    ...tableRows({
      hello,
      wave,
      floorWave,
      floor,
      phone,
      steady,
      naive,
      pay,
      floorPay,
      car,
      quantity,
      fans,
    }),
    ...drawRows(draw),
    ...campaignRows(campaign),
    ...overloadRows(overloaded),
  ];
  notes.push(
    ...explanations({ hello, floor, phone, naive, wave, quantity, fans, full: flags.full }),
  );
  const command = `npm run bench${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(' ')}` : ''}`;
  console.log(`\n${renderTable(rows)}\n`);
  for (const n of notes) console.log(`- ${n}`);
  for (const section of steadyStages) console.log(`\n${section}`);
  const file = join(REPO_ROOT, 'load-tests/RESULTS.md');
  const existing = existsSync(file) ? readFileSync(file, 'utf8') : undefined;
  writeFileSync(file, prependRun(existing, renderRun(machine, command, rows, notes, steadyStages)));
  console.log(`\nwritten to load-tests/RESULTS.md (${((Date.now() - t0) / 1000).toFixed(0)} s)`);
}

function explanations(m: {
  hello?: DriveResult;
  floor?: RushResult;
  phone?: PhoneResult;
  naive?: NaiveResult;
  wave?: ReservationWaveResult;
  quantity: number;
  fans: number;
  full: boolean;
}): string[] {
  const out: string[] = [];
  const closed = generatorFor('closed');
  const open = generatorFor('open');
  out.push(
    `Generators: ${closed} for the closed loops (rush, reservations, credits, payments, naive, ` +
      `hello), ${open} for the steady open-model run; each figure and its floor with the same ` +
      'one, on the same 2 cores as the servers. The generator column is its CPU over the ' +
      "run's seconds times the cores (stack / floor)." +
      (closed === 'autocannon' || open === 'autocannon'
        ? ' autocannon is the fallback: load-tests/generators/install.sh installs wrk and vegeta.'
        : ''),
  );
  if (m.hello && m.floor) {
    out.push(
      `The generator reached ${Math.round(m.hello.rate).toLocaleString('en-US')} req/s against ` +
        `hello-world; the grab floor ran at ${((m.floor.drive.rate / m.hello.rate) * 100).toFixed(0)}% of that.`,
    );
  }
  out.push(
    `Grab figures: ${m.fans.toLocaleString('en-US')} distinct reserved fans, each grabbing once, ` +
      `${m.quantity.toLocaleString('en-US')} units, ${phoneRush.arrival.maxInFlight} requests in flight ` +
      '(a closed loop: the rate is the capacity at that concurrency). The floors read the fan ' +
      'from the token without checking its signature; the stack checks it.',
  );
  if (m.naive) {
    out.push(
      `The naive peer ran the same rush scaled to ${m.naive.quantity.toLocaleString('en-US')} units and ` +
        `${m.naive.fans.toLocaleString('en-US')} fans, bounded to ${peers.naive.maxSeconds} s ` +
        `(${m.naive.drive.answered.toLocaleString('en-US')} answered${m.naive.drive.stoppedEarly ? ', stopped by the bound' : ''}).`,
    );
  }
  if (m.wave && !m.full) {
    out.push(
      `The reservation wave ran at ${reservationWave.benchScale} scale ` +
        `(${m.wave.fans.toLocaleString('en-US')} of 1.3 M); \`npm run bench -- --full\` sends all 1.3 M.`,
    );
  }
  if (m.phone?.reserve) {
    out.push(
      "The phone's fans reserved through the API in the window, as in a sale, so they grab " +
        "with tokens the API verified at their reservation (libs/auth's cache); the window " +
        "was sized from the wave's rate and the rush's figures start at the sale's start.",
    );
  }
  if (m.phone && !m.phone.reserve) {
    out.push(
      "The phone's reservations were written straight into Redis with the API's own reserve " +
        "script (libs/inventory), so the rush does not wait on them; the API's reservation rate " +
        'is the wave row.',
    );
  }
  if (m.phone && m.phone.reservedOk < m.fans) {
    out.push(`Only ${m.phone.reservedOk} of ${m.fans} phone fans reserved inside the window.`);
  }
  if (m.phone?.rush.drive.codes) {
    const codes = Object.entries(m.phone.rush.drive.codes)
      .map(([c, n]) => `${c} ${n}`)
      .join(', ');
    out.push(`Grab refusals through the API: ${codes || 'none'}.`);
  }
  out.push(
    'CPU is shared: other work on this machine during the run shows in the load column ' +
      '(1-minute load average before-after each measurement); compare figures of one run only.',
  );
  return out;
}

/** A bench stack service's process id (bench.sh passes where services.sh writes them). */
function servicePid(service: 'api' | 'wallet' | 'analytics' | 'worker'): number | undefined {
  const dir = process.env.BENCH_RUN_DIR;
  return dir ? pidFromFile(join(dir, `${service}.pid`)) : undefined;
}

function apiPid(): number | undefined {
  return servicePid('api');
}

/** The stack's processes other than the API and Redis: the event pipeline and the wallet. */
function otherStackPids(): number[] {
  const pids = [
    servicePid('worker'),
    servicePid('analytics'),
    servicePid('wallet'),
    pidFromFile(process.env.BENCH_KAFKA_PID_FILE),
  ];
  return pids.filter((p): p is number => p !== undefined);
}

/**
 * With BENCH_PROFILE=1, bench.sh preloads load-tests/profile/cpu-profile-preload.js into the
 * services and the runner into the floor: SIGWINCH to the process starts its CPU profiler just
 * before its rush and writes the profile just after it; the summary (self time by area and
 * function, and the total under each function) is printed and saved as
 * load-tests/profile/<name>-grab.txt, the profile beside it (not committed).
 */
function profileRush(
  name: string,
  pid: number | undefined,
  log: (line: string) => void,
  what: 'grab' | 'reservation' = 'grab',
): RushProfile {
  if (process.env.BENCH_PROFILE !== '1' || !pid) return {};
  const out = join(REPO_ROOT, `load-tests/profile/${name}-${what}.cpuprofile`);
  const file = `/tmp/flashdrop-${pid}.cpuprofile`;
  return {
    // A process profiled twice (the API: the wave, then the rush) writes the same file: the
    // last one is removed first, so `after` waits for this window's own.
    before: () => {
      rmSync(file, { force: true });
      process.kill(pid, 'SIGWINCH');
    },
    after: async () => {
      process.kill(pid, 'SIGWINCH');
      const deadline = Date.now() + 10_000;
      while (!existsSync(file) && Date.now() < deadline) await sleep(200);
      if (!existsSync(file)) return log(`profile of the ${name}: none written`);
      await sleep(500);
      writeFileSync(out, readFileSync(file));
      const profile = JSON.parse(readFileSync(out, 'utf8')) as CpuProfile;
      const text = `${summarize(profile, 30)}\n\n${inclusive(profile, 60)}`;
      const txt = `load-tests/profile/${name}-${what}.txt`;
      writeFileSync(join(REPO_ROOT, txt), `${text}\n`);
      log(`profile of the ${name} during its ${what}s (${txt}):\n${summarize(profile, 30)}`);
    },
  };
}

/** A profiler's window around a rush (run-overload.ts RushWindow, the one definition). */
type RushProfile = RushWindow;

/** Several processes profiled over the same rush: all started, then all written. */
function profileRushes(profiles: readonly RushProfile[]): RushProfile {
  return {
    before: () => profiles.forEach((p) => p.before?.()),
    after: async () => {
      await Promise.all(profiles.map((p) => p.after?.()));
    },
  };
}

function machineFacts(): Machine {
  let commit = 'unknown';
  try {
    commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: REPO_ROOT })
      .toString()
      .trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--untracked-files=no'], {
      cwd: REPO_ROOT,
    })
      .toString()
      .trim();
    if (dirty) commit += ' (with uncommitted changes)';
  } catch {
    // not a git checkout: the commit stays unknown
  }
  return {
    date: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
    commit,
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model.trim() ?? 'unknown',
    memoryGiB: totalmem() / 2 ** 30,
    node: process.version,
    loadBefore: loadavg()[0],
  };
}

main().then(
  () => process.exit(0),
  (e: unknown) => {
    console.error(e);
    process.exit(1);
  },
);
