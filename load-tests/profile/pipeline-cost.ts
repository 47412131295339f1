// CPU per event of every process of the event pipeline (worker relays + order persistence,
// analytics, the Kafka broker, Redis, the PostgreSQL backends of the worker), measured from
// /proc CPU time deltas while a known number of events flows. CPU time, unlike a rate, is what
// the machine's other load distorts least: a process that waits for a core does not consume it.
//
//   TEST_SLOT=3 node -r ts-node/register/transpile-only -r tsconfig-paths/register \
//     load-tests/profile/pipeline-cost.ts [--fans=20000] [--units=20000] [--rate=5000] [--profile=live|idle]
//
// Everything it measures is its own: a Redis server and a Kafka broker on ports of the slot, a
// worker and an analytics process (the built dist/, production settings), topics under a prefix
// of this run; PostgreSQL is the shared server (the slot's test database, migrated by npm test),
// of which only the worker's own backends are counted. Three phases, each one drop whose fans
// each grab once (units accepted, the rest SOLD_OUT), like a rush; an accepted grab is one
// outbox event, refusals a few aggregate ones (libs/inventory RefusalTally):
//   1. grab only: the worker and analytics are stopped (SIGSTOP) while the grabs are written,
//      so Redis's CPU is the grab scripts' alone (what the floor pays);
//   2. backlog: they continue (SIGCONT) and drain what phase 1 wrote (the pipeline's best case,
//      big batches);
//   3. live: the grabs are written at --rate per second while the pipeline runs (what a rush
//      costs); Redis's pipeline share is its total minus phase 1's grab cost.
// CPU is divided by the events of the phase (the stream's entries-added).
// Idle CPU (polling) is measured over 5 s first and subtracted (the live phase is shown raw too).
import { execFileSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import Redis from 'ioredis';
import { Client } from 'pg';
import { compareIds, Inventory, OutboxStreamGroups } from '@flashdrop/inventory';
import {
  DedicatedKafka,
  DedicatedRedis,
  dropKeys,
  REPO_ROOT,
  ServiceProcess,
  dropDefinition,
  eventually,
  redisNow,
  slotPort,
  testConfig,
} from '@flashdrop/testing';
import { cpuSeconds, pidFromFile, redisPid } from '../runner/cpu';

const arg = (name: string, fallback: number): number => {
  const hit = process.argv.find((a) => a.startsWith(`--${name}=`));
  return hit ? Number(hit.split('=')[1]) : fallback;
};
const FANS = arg('fans', 20_000);
const UNITS = arg('units', 20_000);
const RATE = arg('rate', 5_000);
/**
 * --profile=live|idle: CPU profiles of the worker and analytics over that phase
 * (/tmp/flashdrop-<pid>.cpuprofile; load-tests/profile/summarize.ts reads them).
 */
const PROFILE = process.argv.find((a) => a.startsWith('--profile='))?.split('=')[1];

type Proc = 'worker' | 'analytics' | 'kafka' | 'redis' | 'postgres';
const PROCS: Proc[] = ['worker', 'analytics', 'kafka', 'redis', 'postgres'];
type Sample = Record<Proc, number>;
/** CPU seconds of each process, and of each PostgreSQL backend by pid (pools open and close them). */
interface Reading {
  readonly procs: Omit<Sample, 'postgres'>;
  readonly backends: Map<number, number>;
}

async function main(): Promise<void> {
  const run = Date.now().toString(36);
  const redisServer = new DedicatedRedis(slotPort(6398));
  const kafkaServer = new DedicatedKafka(slotPort(9188), slotPort(9189));
  const env = {
    NODE_ENV: 'production',
    LOG_LEVEL: 'info',
    REDIS_URL: redisServer.url,
    KAFKA_BROKERS: kafkaServer.brokers,
    KAFKA_TOPIC_PREFIX: `cost${run}.`,
    KAFKA_CLIENT_ID: `flashdrop-cost-${run}`,
    ...(PROFILE ? { NODE_OPTIONS: `-r ${join(__dirname, 'cpu-profile-preload.js')}` } : {}),
    ANALYTICS_HTTP_PORT: String(slotPort(3468)),
    WORKER_HTTP_PORT: String(slotPort(3469)),
  };
  const worker = new ServiceProcess('worker', env, `/tmp/flashdrop-cost-worker.log`);
  const analytics = new ServiceProcess('analytics', env, `/tmp/flashdrop-cost-analytics.log`);
  const db = new Client({ connectionString: testConfig().DATABASE_URL });
  let redis: Redis | undefined;
  redisServer.start();
  // The broker is this script's own: start it empty (every run's topics would pile up and slow
  // its start until topic creation times out).
  rmSync(join(dataDir(), 'kafka/data', String(kafkaServer.port)), { recursive: true, force: true });
  kafkaServer.start();
  try {
    redis = new Redis(redisServer.url);
    // The server is this script's own: start from nothing (old drops would be relayed again).
    await redis.flushdb();
    kafkaServer.createTopics(env);
    worker.start();
    analytics.start();
    await worker.waitForHttp(`http://127.0.0.1:${env.WORKER_HTTP_PORT}/health/live`, 60_000);
    await analytics.waitForHttp(`http://127.0.0.1:${env.ANALYTICS_HTTP_PORT}/health/live`, 60_000);
    await db.connect();
    const inventory = new Inventory(redis);
    const pids = {
      worker: worker.pid ?? 0,
      analytics: analytics.pid ?? 0,
      kafka: pidFromFile(kafkaPidFile(kafkaServer.port)) ?? 0,
      redis: (await redisPid(redis)) ?? 0,
    };
    const sample = async (): Promise<Reading> => ({
      procs: {
        worker: cpuSeconds(pids.worker),
        analytics: cpuSeconds(pids.analytics),
        kafka: cpuSeconds(pids.kafka),
        redis: cpuSeconds(pids.redis),
      },
      backends: await postgresBackends(db),
    });

    console.log('warm-up (the consumer group joins, the relays take their leases)...');
    const warm = await rush(inventory, 2_000, 500, 0);
    await drained(redis, warm);

    const profiled = [pids.worker, pids.analytics];
    const profile = (phase: string) => {
      if (PROFILE === phase) profiled.forEach((pid) => process.kill(pid, 'SIGWINCH'));
    };
    profile('idle');
    const idleFrom = await sample();
    await new Promise((r) => setTimeout(r, 5_000));
    const idle = perSecond(diff(await sample(), idleFrom), 5);
    profile('idle');

    // 1 + 2: grab only (pipeline stopped), then the pipeline drains the backlog.
    const grabFrom = await sample();
    process.kill(pids.worker, 'SIGSTOP');
    process.kill(pids.analytics, 'SIGSTOP');
    const t1 = Date.now();
    const backlog = await rush(inventory, FANS, UNITS, 0);
    const grabOnly = diff(await sample(), grabFrom);
    const grabSeconds = (Date.now() - t1) / 1000;
    process.kill(pids.worker, 'SIGCONT');
    process.kill(pids.analytics, 'SIGCONT');
    const drainFrom = await sample();
    const t2 = Date.now();
    await drained(redis, backlog);
    const drainSeconds = (Date.now() - t2) / 1000;
    const drain = diff(await sample(), drainFrom);

    // 3: live, at RATE grabs per second.
    profile('live');
    const liveFrom = await sample();
    const t3 = Date.now();
    const live = await rush(inventory, FANS, UNITS, RATE);
    await drained(redis, live);
    profile('live');
    if (PROFILE) {
      console.log(
        `profiles: ${profiled.map((pid) => `/tmp/flashdrop-${pid}.cpuprofile`).join(' ')}`,
      );
    }
    const liveSeconds = (Date.now() - t3) / 1000;
    const liveUsed = diff(await sample(), liveFrom);

    // Every accepted grab is one event; refusals are a few aggregate events (count_refusals).
    const events = await entriesAdded(redis, live);
    const us = (s: number) => (s * 1e6) / events;
    const minusIdle = (used: Sample, seconds: number, p: Proc) =>
      Math.max(0, used[p] - idle[p] * seconds);
    console.log(
      `\n${FANS} grabs (${Math.min(UNITS, FANS)} accepted, the rest SOLD_OUT), ${events} events per phase; load ${loadavg()}`,
    );
    console.log(
      `idle CPU per second (ms): ${PROCS.map((p) => `${p} ${fmt(idle[p] * 1e3)}`).join(', ')}`,
    );
    console.log(
      `grab scripts alone, Redis: ${fmt((grabOnly.redis * 1e6) / FANS)} us per grab (${fmt(FANS / grabSeconds, 0)} grabs/s written)`,
    );
    // Two views of the live phase: idle polling subtracted (the cost of the events alone), and
    // raw (everything the process spent while they flowed). The first favours a pipeline that
    // lags (a longer phase subtracts more idle time, though a busy process polls less); the
    // second charges the events with polling that runs anyway. The truth is between.
    console.log(
      `\nCPU per event (us)       backlog (${fmt(drainSeconds)} s)   live at ${RATE}/s (${fmt(liveSeconds)} s)   live, raw`,
    );
    const totals = [0, 0, 0];
    for (const p of PROCS) {
      // Redis ran the grabs as well as the pipeline in the live phase.
      const grabs = p === 'redis' ? grabOnly.redis : 0;
      const row = [
        us(minusIdle(drain, drainSeconds, p)),
        us(Math.max(0, minusIdle(liveUsed, liveSeconds, p) - grabs)),
        us(Math.max(0, liveUsed[p] - grabs)),
      ];
      row.forEach((v, i) => (totals[i] += v));
      console.log(`  ${p.padEnd(22)} ${row.map((v) => fmt(v).padStart(12)).join(' ')}`);
    }
    console.log(`  ${'total'.padEnd(22)} ${totals.map((v) => fmt(v).padStart(12)).join(' ')}`);
  } finally {
    await worker.stop();
    await analytics.stop();
    await db.end().catch(() => undefined);
    redis?.disconnect();
    kafkaServer.stop();
    redisServer.stop();
  }
}

/** One drop without reservations; `fans` fans grab once each, paced at `rate`/s (0: unpaced). */
async function rush(
  inventory: Inventory,
  fans: number,
  units: number,
  rate: number,
): Promise<string> {
  const def = dropDefinition(await redisNow(inventory.redis), {
    quantity: units,
    reservationRequired: false,
    reservationOpensAt: undefined,
    reservationClosesAt: undefined,
  });
  await inventory.createDrop(def);
  const step = 100;
  const start = Date.now();
  for (let i = 0; i < fans; i += step) {
    const n = Math.min(step, fans - i);
    await Promise.all(
      Array.from({ length: n }, (_, j) =>
        inventory.grab({ dropId: def.id, fanId: `f${i + j}`, quantity: 1 }),
      ),
    );
    if (rate > 0) {
      const due = start + ((i + n) * 1000) / rate;
      const wait = due - Date.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    }
  }
  // Refusals are counted in the process and written as aggregate events (libs/inventory).
  await inventory.refusals.flush();
  return def.id;
}

/** Events the drop's grabs wrote to its outbox stream (trimming does not lower it). */
async function entriesAdded(redis: Redis, dropId: string): Promise<number> {
  const info = (await redis.call('XINFO', 'STREAM', dropKeys(dropId).events)) as unknown[];
  return Number(info[info.indexOf('entries-added') + 1]);
}

/** Waits until analytics applied the drop's last event and order persistence acknowledged it. */
async function drained(redis: Redis, dropId: string): Promise<void> {
  const stream = dropKeys(dropId).events;
  const [[last]] = (await redis.xrevrange(stream, '+', '-', 'COUNT', 1)) as [string, string[]][];
  const ok = await eventually(
    async () => {
      const wm = await redis.hgetall(`{d:${dropId}}:a:wm`);
      // Later events (the scheduler's sold-out phase change) may follow the last grab.
      if (!Object.values(wm).some((id) => compareIds(id, last) >= 0)) return false;
      const groups = (await redis.call('XINFO', 'GROUPS', stream)) as (string | number)[][];
      const persistence = groups.find((g) => g[1] === OutboxStreamGroups.orderPersistence);
      if (!persistence) return false;
      const at = (name: string) => persistence[persistence.indexOf(name) + 1];
      return compareIds(String(at('last-delivered-id')), last) >= 0 && Number(at('pending')) === 0;
    },
    120_000,
    20,
  );
  if (!ok) {
    const state = {
      last,
      length: await redis.xlen(stream),
      watermarks: await redis.hgetall(`{d:${dropId}}:a:wm`),
      groups: await redis.call('XINFO', 'GROUPS', stream),
    };
    throw new Error(`the pipeline did not drain ${dropId}: ${JSON.stringify(state)}`);
  }
}

/** CPU seconds of each PostgreSQL backend serving the worker (its connections), by pid. */
async function postgresBackends(db: Client): Promise<Map<number, number>> {
  const rows = await db.query<{ pid: number }>(
    `SELECT pid FROM pg_stat_activity WHERE datname = current_database()
       AND application_name LIKE 'flashdrop-%'`,
  );
  return new Map(rows.rows.map((r) => [r.pid, cpuSeconds(r.pid) || 0]));
}

function dataDir(): string {
  return process.env.FLASHDROP_DATA_DIR ?? join(REPO_ROOT, '.data');
}

function kafkaPidFile(port: number): string {
  return join(dataDir(), 'kafka/run', `${port}.pid`);
}

/** What each process used from `b` to `a`; a backend opened in between counts from zero. */
function diff(a: Reading, b: Reading): Sample {
  let postgres = 0;
  for (const [pid, cpu] of a.backends) postgres += cpu - (b.backends.get(pid) ?? 0);
  return {
    worker: a.procs.worker - b.procs.worker,
    analytics: a.procs.analytics - b.procs.analytics,
    kafka: a.procs.kafka - b.procs.kafka,
    redis: a.procs.redis - b.procs.redis,
    postgres,
  };
}

function perSecond(s: Sample, seconds: number): Sample {
  return Object.fromEntries(PROCS.map((p) => [p, s[p] / seconds])) as Sample;
}

function fmt(n: number, digits = 1): string {
  return n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: 0 });
}

function loadavg(): string {
  return execFileSync('cut', ['-d', ' ', '-f1-3', '/proc/loadavg']).toString().trim();
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
