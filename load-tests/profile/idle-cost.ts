// What an idle worker costs with many finished drops in Redis: CPU per second of the worker
// process and of the Redis server while nothing happens, after N drops whose sales are over
// have been created and their events relayed. The background loops (sweeper, scheduler, relay
// and trimmer, order persistence, payment recovery) should cost what the open drops need, not
// what history holds; run it with the worker built before and after a change to compare.
//
//   TEST_SLOT=5 node -r ts-node/register/transpile-only -r tsconfig-paths/register \
//     load-tests/profile/idle-cost.ts [--drops=5000] [--seconds=20] [--worker=dist/apps/worker/main.js]
//
// Everything it runs is its own: a Redis server on a port of the slot (emptied first) and a
// worker process (the given build, production settings, the stream relay only); the shared
// Kafka broker (topics under the fixed prefix `idlecost.`) and the slot's test database.
import { execFileSync } from 'node:child_process';
import { resolve } from 'node:path';
import Redis from 'ioredis';
import { Inventory } from '@flashdrop/inventory';
import {
  DedicatedRedis,
  DROPS_ACTIVE_KEY,
  dropDefinition,
  dropKeys,
  redisNow,
  REPO_ROOT,
  ServiceProcess,
  slotPort,
  testProfileEnv,
} from '@flashdrop/testing';
import { cpuSeconds, redisPid } from '../runner/cpu';

const FLAGS = ['drops', 'seconds', 'worker'] as const;
const HELP = `usage: idle-cost.ts [--drops=N] [--seconds=S] [--worker=PATH]
  --drops=N      finished drops to create first (default 5000)
  --seconds=S    how long the idle worker is measured (default 20)
  --worker=PATH  the worker's main.js to run (default dist/apps/worker/main.js)`;

function parseFlags(argv: readonly string[]): Record<(typeof FLAGS)[number], string | undefined> {
  const out: Record<string, string | undefined> = {};
  for (const a of argv) {
    if (a === '--help' || a === '-h') {
      console.log(HELP);
      process.exit(0);
    }
    const m = /^--([a-z]+)=(.+)$/.exec(a);
    if (!m || !(FLAGS as readonly string[]).includes(m[1])) {
      console.error(`unknown flag ${a}\n${HELP}`);
      process.exit(2);
    }
    out[m[1]] = m[2];
  }
  return out as Record<(typeof FLAGS)[number], string | undefined>;
}

async function main(): Promise<void> {
  const flags = parseFlags(process.argv.slice(2));
  const drops = Number(flags.drops ?? 5000);
  const seconds = Number(flags.seconds ?? 20);
  const workerMain = resolve(flags.worker ?? `${REPO_ROOT}/dist/apps/worker/main.js`);
  const redisServer = new DedicatedRedis(slotPort(6397));
  const env = {
    NODE_ENV: 'production',
    LOG_LEVEL: 'warn',
    REDIS_URL: redisServer.url,
    RELAYS: 'streams',
    KAFKA_TOPIC_PREFIX: 'idlecost.',
    KAFKA_CLIENT_ID: 'flashdrop-idlecost',
    WORKER_HTTP_PORT: String(slotPort(4306)),
  };
  redisServer.start();
  const redis = new Redis(redisServer.url);
  const worker = new ServiceProcess(
    'worker',
    env,
    '/tmp/flashdrop-idlecost-worker.log',
    workerMain,
  );
  try {
    await redis.flushdb();
    execFileSync(process.execPath, [workerMain, 'topics'], {
      env: { ...process.env, ...testProfileEnv(), ...env },
      stdio: 'ignore',
    });
    const inventory = new Inventory(redis);
    const now = await redisNow(redis);
    console.log(`creating ${drops} finished drops...`);
    for (let i = 0; i < drops; i += 200) {
      await Promise.all(
        Array.from({ length: Math.min(200, drops - i) }, () =>
          inventory.createDrop(
            dropDefinition(now, {
              reservationRequired: false,
              reservationOpensAt: undefined,
              reservationClosesAt: undefined,
              saleStartsAt: now - 120_000,
              saleEndsAt: now - 60_000,
            }),
          ),
        ),
      );
    }
    worker.start();
    await worker.waitForHttp(`http://127.0.0.1:${env.WORKER_HTTP_PORT}/health/live`, 60_000);
    console.log('waiting until every drop is settled (phase announced, events relayed)...');
    const ids = await inventory.dropIds();
    const sample = ids.filter((_, i) => i % Math.max(1, Math.floor(ids.length / 50)) === 0);
    const deadline = Date.now() + 600_000;
    for (;;) {
      const left = await unsettled(redis, sample);
      if (left.length === 0) break;
      if (Date.now() > deadline) throw new Error(`not settled within 600 s: ${left.join('; ')}`);
      console.log(`  ${left.length} of ${sample.length} sampled drops not settled: ${left[0]}`);
      await new Promise((r) => setTimeout(r, 5000));
    }
    await new Promise((r) => setTimeout(r, 10_000)); // the last trims and retirements
    const pids = { worker: worker.pid ?? 0, redis: (await redisPid(redis)) ?? 0 };
    const from = { worker: cpuSeconds(pids.worker), redis: cpuSeconds(pids.redis) };
    const t0 = Date.now();
    await new Promise((r) => setTimeout(r, seconds * 1000));
    const secs = (Date.now() - t0) / 1000;
    const ms = (p: 'worker' | 'redis') =>
      (((cpuSeconds(pids[p]) - from[p]) * 1000) / secs).toFixed(1);
    const active = await redis.scard(DROPS_ACTIVE_KEY);
    console.log(
      `${drops} finished drops (${active} still in drops:active), idle ${secs.toFixed(0)} s: ` +
        `worker ${ms('worker')} ms CPU/s, redis ${ms('redis')} ms CPU/s (worker: ${workerMain})`,
    );
  } finally {
    await worker.stop();
    redis.disconnect();
    redisServer.stop();
  }
}

/** The sampled drops whose phase is not announced yet or whose stream is not all relayed. */
async function unsettled(redis: Redis, dropIds: readonly string[]): Promise<string[]> {
  const left: string[] = [];
  for (const id of dropIds) {
    const k = dropKeys(id);
    const phase = await redis.hget(k.drop, 'phase');
    if (phase !== 'ended') {
      left.push(`${id} phase ${phase}`);
      continue;
    }
    const stream = fields((await redis.call('XINFO', 'STREAM', k.events)) as unknown[]);
    const groups = (await redis.call('XINFO', 'GROUPS', k.events)) as unknown[][];
    const relay = groups.map(fields).find((g) => g.name === 'kafka-relay');
    if (!relay || relay['last-delivered-id'] !== stream['last-generated-id']) {
      left.push(`${id} relayed to ${String(relay?.['last-delivered-id'])}`);
    } else if (Number(relay.pending) !== 0) left.push(`${id} ${String(relay.pending)} pending`);
  }
  return left;
}

/** A flat XINFO answer [name, value, ...] as an object. */
function fields(list: readonly unknown[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (let i = 0; i + 1 < list.length; i += 2) out[String(list[i])] = list[i + 1];
  return out;
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
