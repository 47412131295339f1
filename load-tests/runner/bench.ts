// `npm run bench` (through load-tests/bench.sh, which starts the bench stack first): every
// scenario and peer in one run, one table printed and written to load-tests/RESULTS.md.
// Flags: --full (the 1.3 M reservation wave), --scale=F (the phone rush scaled, e.g. 0.1),
//        --only=hello,wave,floor,phone,steady,naive,payments,car (a subset; the rest shows n/a)
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { join } from 'node:path';
import Redis from 'ioredis';
import { FlashdropConfig, loadConfig } from '@flashdrop/config';
import { Inventory } from '@flashdrop/inventory';
import { carSale } from '../scenarios/car-sale';
import { payments as paymentsSpec } from '../scenarios/payments';
import { peers } from '../scenarios/peers';
import { phoneRush, scalePhoneRush } from '../scenarios/phone-rush';
import { reservationWave } from '../scenarios/reservation-wave';
import { RunContext } from './context';
import { pidFromFile, redisPid } from './cpu';
import { DriveResult } from './load';
import { PeerProcess, REPO_ROOT } from './processes';
import { Machine, prependRun, renderRun, renderTable, Row } from './report';
import { CarResult, runCar } from './run-car';
import { PaymentsResult, runPayments } from './run-payments';
import { NaiveResult, runFloor, runHello, runNaive } from './run-peers';
import { PhoneResult, RushResult, runPhone } from './run-phone';
import { ReservationWaveResult, runReservationWave } from './run-reservations';
import { runSteadyFloor, runSteadyStack } from './run-steady';
import { fanTokens, routeExists, sleep, Stack } from './stack';
import { CpuProfile, summarize } from '../profile/summarize';

// Above every test slot's ports (libs/testing slotPort: up to ~3520), so a bench never takes one.
const PORTS = { floor: 3610, naive: 3611, hello: 3612 };

interface Flags {
  readonly full: boolean;
  readonly scale: number;
  readonly only?: ReadonlySet<string>;
}

function parseFlags(argv: readonly string[]): Flags {
  const value = (name: string) => argv.find((a) => a.startsWith(`--${name}=`))?.split('=')[1];
  const only = value('only');
  return {
    full: argv.includes('--full'),
    scale: Number(value('scale') ?? '1'),
    only: only ? new Set(only.split(',')) : undefined,
  };
}

interface ProfileEnvModule {
  profileEnv(profile: string, slot: number): Record<string, string>;
}

async function main(): Promise<void> {
  const flags = parseFlags(process.argv.slice(2));
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
      { REDIS_URL: floorRedisUrl },
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
  let floor: RushResult | undefined;
  let phone: PhoneResult | undefined;
  let naive: NaiveResult | undefined;
  let steady: { rate: number; stack?: RushResult; floor?: RushResult } | undefined;
  let pay: PaymentsResult | undefined;
  let car: CarResult | undefined;

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
      if (!apiReady) return;
      const count = Math.round(
        reservationWave.fans * (flags.full ? 1 : reservationWave.benchScale),
      );
      wave = await runReservationWave(ctx, count, flags.full ? 240 : 45, {
        api: apiPid(),
        redis: await redisPid(redis),
        others: otherStackPids(),
      });
    });
    await step('floor', async () => {
      floor = await runFloor(ctx, peerProcs.floor, floorRedis, run, tokens, quantity, 60);
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
          profileApi(log),
          { server: apiPid(), redis: await redisPid(redis), others: otherStackPids() },
          { inventory: new Inventory(seedRedis), run },
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
      steady.floor = await runSteadyFloor(
        ctx,
        peerProcs.floor,
        floorRedis,
        tokens,
        rate,
        await redisPid(floorRedis),
      );
      if (!apiReady) return;
      steady.stack = await runSteadyStack(ctx, tokens, rate, {
        server: apiPid(),
        redis: await redisPid(redis),
        others: otherStackPids(),
      });
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
      if (!phone || phone.rush.winners.length === 0) return;
      if (!(await routeExists(stack, 'POST', '/v1/orders/x/payment'))) {
        notes.push('the payment route is not on this commit: payments are n/a');
        return;
      }
      pay = await runPayments(ctx, run, phone.rush.winners, tokens, 60);
    });
    await step('car', async () => {
      if (!apiReady || !(await routeExists(stack, 'POST', '/v1/orders/x/payment'))) return;
      car = await runCar(ctx);
    });
  } finally {
    await Promise.all(Object.values(peerProcs).map((p) => p.stop()));
    redis.disconnect();
    floorRedis.disconnect();
  }

  const rows = tableRows({ hello, wave, floor, phone, steady, naive, pay, car, quantity, fans });
  notes.push(
    ...explanations({ hello, floor, phone, naive, wave, quantity, fans, full: flags.full }),
  );
  const command = `npm run bench${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(' ')}` : ''}`;
  console.log(`\n${renderTable(rows)}\n`);
  for (const n of notes) console.log(`- ${n}`);
  const file = join(REPO_ROOT, 'load-tests/RESULTS.md');
  const existing = existsSync(file) ? readFileSync(file, 'utf8') : undefined;
  writeFileSync(file, prependRun(existing, renderRun(machine, command, rows, notes)));
  console.log(`\nwritten to load-tests/RESULTS.md (${((Date.now() - t0) / 1000).toFixed(0)} s)`);
}

interface Measured {
  readonly hello?: DriveResult;
  readonly wave?: ReservationWaveResult;
  readonly floor?: RushResult;
  readonly phone?: PhoneResult;
  readonly naive?: NaiveResult;
  readonly steady?: { rate: number; stack?: RushResult; floor?: RushResult };
  readonly pay?: PaymentsResult;
  readonly car?: CarResult;
  readonly quantity: number;
  readonly fans: number;
}

function tableRows(m: Measured): Row[] {
  const t = phoneRush.targets;
  const api = m.phone?.rush;
  const apiRate = api?.drive.rate;
  const floorRate = m.floor?.drive.rate;
  const naiveRate = m.naive?.drive.rate;
  const rows: Row[] = [
    {
      figure: `grabs, phone rush (${m.fans.toLocaleString('en-US')} fans, ${phoneRush.arrival.maxInFlight} in flight)`,
      unit: '/s',
      value: apiRate,
      floor: floorRate,
      naive: naiveRate,
      ratios: true,
      target: `>= ${t.floorRatio.value}x floor, >= ${t.naiveRatio.value}x naive`,
      met:
        apiRate === undefined || floorRate === undefined || naiveRate === undefined
          ? undefined
          : apiRate >= t.floorRatio.value * floorRate && apiRate >= t.naiveRatio.value * naiveRate,
      load: api?.drive.load,
    },
    {
      figure: 'grab p50',
      unit: 'ms',
      value: api?.drive.latencyMs.p50,
      floor: m.floor?.drive.latencyMs.p50,
      naive: m.naive?.drive.latencyMs.p50,
    },
    {
      figure: 'grab p95',
      unit: 'ms',
      value: api?.drive.latencyMs.p95,
      floor: m.floor?.drive.latencyMs.p95,
      naive: m.naive?.drive.latencyMs.p95,
    },
    {
      figure: 'grab p99 (at saturation: the closed loop above)',
      unit: 'ms',
      value: api?.drive.latencyMs.p99,
      floor: m.floor?.drive.latencyMs.p99,
      naive: m.naive?.drive.latencyMs.p99,
    },
    {
      figure: `grab p99 at a steady ${m.steady ? m.steady.rate.toLocaleString('en-US') : '?'}/s (0.6x the floor's rate, open model, the phone's mix)`,
      unit: 'ms',
      value: m.steady?.stack?.drive.latencyMs.p99,
      floor: m.steady?.floor?.drive.latencyMs.p99,
      target: t.grabP99,
    },
    {
      figure: 'grab p50 at that steady rate',
      unit: 'ms',
      value: m.steady?.stack?.drive.latencyMs.p50,
      floor: m.steady?.floor?.drive.latencyMs.p50,
    },
    {
      figure: 'grabs answered per second at that steady rate (it kept up when = the rate)',
      unit: '/s',
      value: m.steady?.stack?.drive.rate,
      floor: m.steady?.floor?.drive.rate,
    },
    {
      figure: 'CPU per grab, server process',
      unit: 'us',
      value: api?.cpuUsPerGrab.server,
      floor: m.floor?.cpuUsPerGrab.server,
      naive: m.naive?.cpuUsPerGrab.server,
      ratios: true,
    },
    {
      figure: 'CPU per grab, Redis',
      unit: 'us',
      value: api?.cpuUsPerGrab.redis,
      floor: m.floor?.cpuUsPerGrab.redis,
      ratios: true,
    },
    {
      figure: 'CPU per grab, rest of the stack (worker, analytics, wallet, Kafka)',
      unit: 'us',
      value: api?.cpuUsPerGrab.others,
    },
    {
      figure: 'grab errors (not 201 held / 409 SOLD_OUT)',
      unit: '',
      value: api?.errors,
      floor: m.floor?.errors,
      naive: m.naive?.errors,
      target: { label: 'errors', kind: 'max', value: 0, unit: '' },
    },
    {
      figure: `phone sold out (${m.quantity.toLocaleString('en-US')} units; 2012: ${phoneRush.reference2012.sellOutSeconds} s)`,
      unit: 's',
      value: api ? (api.sellOutSeconds ?? NaN) : undefined,
      floor: m.floor?.sellOutSeconds,
      target: t.sellOut,
    },
    {
      figure: 'sell-through until sold out (units/s)',
      unit: '/s',
      value: sellThrough(api),
      floor: sellThrough(m.floor),
      naive: sellThrough(m.naive),
      ratios: true,
      note: m.naive ? `naive: ${m.naive.quantity.toLocaleString('en-US')} units` : undefined,
    },
    {
      figure: 'units sold above stock',
      unit: '',
      value: m.phone ? Math.max(0, m.phone.oversold) : undefined,
      floor: m.floor ? Math.max(0, m.floor.held - m.quantity) : undefined,
      naive: m.naive
        ? Math.max(0, m.naive.held - (m.naive.quantity - m.naive.remaining))
        : undefined,
      target: { label: 'oversold', kind: 'max', value: 0, unit: '' },
    },
    {
      figure: `reservations (${(m.wave?.fans ?? 0).toLocaleString('en-US')} fans)`,
      unit: '/s',
      value: m.wave?.drive.rate,
      target: reservationWave.targets.rate,
      load: m.wave?.drive.load,
    },
    { figure: 'CPU per reservation, API', unit: 'us', value: m.wave?.cpuUs.api },
    { figure: 'CPU per reservation, Redis', unit: 'us', value: m.wave?.cpuUs.redis },
    {
      figure: 'CPU per reservation, rest of the stack (worker, analytics, wallet, Kafka)',
      unit: 'us',
      value: m.wave?.cpuUs.others,
    },
    {
      figure: '1.3 M reservations at that rate',
      unit: 's',
      value: m.wave ? reservationWave.fans / m.wave.drive.rate : undefined,
      target: { label: '1.3M', kind: 'max', value: 130, unit: 's' },
    },
    {
      figure: 'Redis memory per reservation',
      unit: 'B',
      value: m.wave?.bytesPerReservation,
      target: reservationWave.targets.memory,
    },
    {
      figure: 'wallet credits (operator top-ups)',
      unit: '/s',
      value: m.pay?.credits.rate,
      load: m.pay?.credits.load,
    },
    {
      figure: 'payments',
      unit: '/s',
      value: m.pay?.pay.rate,
      target: paymentsSpec.targets.rate,
      load: m.pay?.pay.load,
    },
    {
      figure: `phone orders paid (${(m.pay?.paid ?? 0).toLocaleString('en-US')})`,
      unit: 's',
      value: m.pay?.pay.seconds,
      target: paymentsSpec.targets.allPaid,
    },
    {
      figure: 'payment p99',
      unit: 'ms',
      value: m.pay?.pay.latencyMs.p99,
    },
    {
      figure: `car: units out above ${carSale.drop.quantity} / units adrift`,
      unit: '',
      value: m.car ? Math.max(0, m.car.oversold) + Math.abs(m.car.unitsAdrift) : undefined,
      target: { label: 'car', kind: 'max', value: 0, unit: '' },
      note: m.car
        ? `paid ${m.car.stats?.paid ?? m.car.paid}, expired ${m.car.stats?.expired ?? '?'}, remaining ${m.car.stats?.remaining ?? '?'}, ${m.car.arrivals} fans`
        : undefined,
    },
    {
      figure: 'load generator ceiling (hello-world)',
      unit: '/s',
      value: m.hello?.rate,
      load: m.hello?.load,
    },
  ];
  return rows;
}

function sellThrough(r: RushResult | undefined): number | undefined {
  if (!r) return undefined;
  return r.sellOutSeconds === undefined ? NaN : r.quantity / r.sellOutSeconds;
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
  if (m.hello && m.floor) {
    out.push(
      `The load generator (autocannon, one thread, on the same 2 cores as the servers) reached ` +
        `${Math.round(m.hello.rate).toLocaleString('en-US')} req/s against hello-world; the floor ran at ` +
        `${((m.floor.drive.rate / m.hello.rate) * 100).toFixed(0)}% of that, so the generator is ` +
        `${m.floor.drive.rate / m.hello.rate < 0.6 ? 'not' : 'close to being'} the bottleneck.`,
    );
  }
  out.push(
    `Grab figures: ${m.fans.toLocaleString('en-US')} distinct reserved fans, each grabbing once, ` +
      `${m.quantity.toLocaleString('en-US')} units, ${phoneRush.arrival.maxInFlight} requests in flight ` +
      `(autocannon is a closed loop per connection: the rate is the capacity at that concurrency). ` +
      `The floor decodes the fan from the token without checking its signature; the stack checks it.`,
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
      '(1-minute load average before-after each measurement); figures taken under load are lower.',
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
 * services: SIGWINCH to the API starts its CPU profiler just before the rush and writes the
 * profile just after it; the summary (self time by area and function) is printed and saved.
 */
function profileApi(log: (line: string) => void) {
  const pid = apiPid();
  if (process.env.BENCH_PROFILE !== '1' || !pid) return {};
  const out = join(REPO_ROOT, `load-tests/profile/api-grab.cpuprofile`);
  return {
    before: () => process.kill(pid, 'SIGWINCH'),
    after: async () => {
      process.kill(pid, 'SIGWINCH');
      const deadline = Date.now() + 10_000;
      const file = `/tmp/flashdrop-${pid}.cpuprofile`;
      while (!existsSync(file) && Date.now() < deadline) await sleep(200);
      if (!existsSync(file)) return log('profile: none written');
      await sleep(500);
      writeFileSync(out, readFileSync(file));
      const text = summarize(JSON.parse(readFileSync(out, 'utf8')) as CpuProfile, 30);
      writeFileSync(join(REPO_ROOT, 'load-tests/profile/api-grab.txt'), `${text}\n`);
      log(`profile of the API during the rush (load-tests/profile/api-grab.txt):\n${text}`);
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
