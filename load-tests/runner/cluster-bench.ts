// One measured run of `npm run bench:cluster` (load-tests/cluster-bench.sh starts the stack on
// the slot's Redis Cluster and calls this once per layout): a rush of distinct fans over a few
// drops at once, through the API, with the CPU each process spent per grab answered (/proc).
// What it prints is one JSON line (appended to --out) and one Markdown row.
import { execFileSync } from 'node:child_process';
import { appendFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { FlashdropConfig, loadConfig } from '@flashdrop/config';
import { connectRedis, isCluster } from '@flashdrop/persistence';
import { phoneRush } from '../scenarios/phone-rush';
import { cpuSeconds, pidFromFile } from './cpu';
import { drive } from './load';
import { bearer, createDrop, Drop, fanTokens, fill, sleep, Stack, stats, tokenOf } from './stack';

const USAGE = `Usage: node load-tests/runner/cluster-bench.ts --label=TEXT [--drops=N] [--quantity=N]
       [--fans=N] [--connections=N] [--seconds=S] [--out=FILE] [--help]
  --label=TEXT      what this run's layout is (e.g. "3 primaries, 1 API")
  --drops=N         drops on sale at once, each its own cluster slot (default 6)
  --quantity=N      units per drop (default 1500)
  --fans=N          distinct fans in all, each grabs once, split over the drops (default 30000)
  --connections=N   requests in flight in all (default 96)
  --seconds=S       hard bound of the rush (default 40)
  --out=FILE        where the JSON line is appended (default: print only)
Env: the test profile (scripts/profile-env.js test, TEST_REDIS_CLUSTER=1), and RUN_DIR, the
     stack's pid folder (scripts/services.sh).`;

interface Flags {
  readonly label: string;
  readonly drops: number;
  readonly quantity: number;
  readonly fans: number;
  readonly connections: number;
  readonly seconds: number;
  readonly out?: string;
}

function parseFlags(argv: readonly string[]): Flags {
  const numbers: Record<string, number> = {
    drops: 6,
    quantity: 1500,
    fans: 30_000,
    connections: 96,
    seconds: 40,
  };
  let label: string | undefined;
  let out: string | undefined;
  for (const arg of argv) {
    const eq = arg.indexOf('=');
    const name = eq < 0 ? arg : arg.slice(0, eq);
    const value = eq < 0 ? undefined : arg.slice(eq + 1);
    if (name === '--help' || name === '-h') {
      console.log(USAGE);
      process.exit(0);
    } else if (name === '--label' && value) {
      label = value;
    } else if (name === '--out' && value) {
      out = value;
    } else if (name.startsWith('--') && name.slice(2) in numbers && value !== undefined) {
      const n = Number(value);
      if (!Number.isInteger(n) || n <= 0) fail(`${name} must be a positive integer`);
      numbers[name.slice(2)] = n;
    } else {
      fail(`unknown or malformed argument ${arg}`);
    }
  }
  if (!label) fail('--label is required');
  return { label: label!, out, ...(numbers as Omit<Flags, 'label' | 'out'>) };
}

function fail(message: string): never {
  console.error(`cluster-bench: ${message}\n${USAGE}`);
  process.exit(2);
}

/** A service's pid (instances.js's primary for N instances) and every child of it. */
function pidsOf(runDir: string, service: string): number[] {
  const pid = pidFromFile(join(runDir, `${service}.pid`));
  if (!pid) return [];
  let children: number[] = [];
  try {
    children = execFileSync('pgrep', ['-P', String(pid)])
      .toString()
      .split(/\s+/)
      .filter(Boolean)
      .map(Number);
  } catch {
    // pgrep exits 1 when the process has no children.
  }
  return [pid, ...children];
}

/** Every node's redis-server pid, by port, and whether it serves slots (a primary with slots). */
async function redisNodes(
  nodes: readonly { host: string; port: number }[],
): Promise<{ port: number; pid: number; slots: number }[]> {
  const out: { port: number; pid: number; slots: number }[] = [];
  for (const { host, port } of nodes) {
    const one = connectRedis({
      REDIS_URL: `redis://${host}:${port}`,
      redisClusterNodes: undefined,
    });
    try {
      const info = String(await one.info('server'));
      const pid = Number(/process_id:(\d+)/.exec(info)?.[1]);
      const myself = String(await one.call('CLUSTER', 'NODES'))
        .split('\n')
        .find((line) => line.includes('myself'));
      // Slot ranges are the fields after the 8th: "0-5460", "5461", ...
      const slots = (myself ?? '')
        .trim()
        .split(' ')
        .slice(8)
        .reduce((sum, r) => {
          const [a, b] = r.split('-').map(Number);
          return Number.isNaN(a) ? sum : sum + (b === undefined ? 1 : b - a + 1);
        }, 0);
      out.push({ port: Number(port), pid, slots });
    } finally {
      one.disconnect();
    }
  }
  return out;
}

async function main(): Promise<void> {
  const flags = parseFlags(process.argv.slice(2));
  const runDir = process.env.RUN_DIR;
  if (!runDir) fail('RUN_DIR (the stack pid folder) must be set');
  // The services' own reading of the same environment: their port, signing secret, cluster.
  const config = loadConfig(FlashdropConfig, process.env);
  const stack: Stack = {
    origin: `http://127.0.0.1:${config.API_PORT}`,
    jwtSecret: config.JWT_SECRET,
  };
  const redis = connectRedis(config);
  if (!isCluster(redis)) fail('REDIS_CLUSTER_NODES must name the cluster');
  redis.disconnect();
  const nodes = await redisNodes(config.redisClusterNodes ?? []);
  const api = pidsOf(runDir!, 'api');
  // The API's instances only (instances.js's primary hands sockets over and is counted apart).
  const apiInstances = api.slice(1).length > 0 ? api.slice(1) : api;
  const apiPrimary = api.length > 1 ? [api[0]] : [];
  const rest = ['worker', 'wallet', 'analytics', 'notifier'].flatMap((s) => pidsOf(runDir!, s));
  const run = `cb${Date.now().toString(36)}`;
  const brand = tokenOf(stack, `brand-${run}`, 'brand');
  console.log(`[cluster-bench] ${flags.label}: signing ${flags.fans} fan tokens`);
  const tokens = fanTokens(stack, run, flags.fans);
  const saleStartsAt = Date.now() + 3000;
  const drops: Drop[] = [];
  for (let d = 0; d < flags.drops; d++) {
    drops.push(
      await createDrop(
        stack,
        brand,
        { ...phoneRush.drop, reservationRequired: false, title: `cluster bench ${d}` },
        flags.quantity,
        { saleStartsAt },
        `${run}-${d}`,
      ),
    );
  }
  const cpuOf = (pids: readonly number[]) => pids.reduce((s, p) => s + cpuSeconds(p), 0);
  await sleep(saleStartsAt + 20 - Date.now());
  const load0 = loadavg()[0];
  const before = {
    api: apiInstances.map((p) => cpuSeconds(p)),
    apiPrimary: cpuOf(apiPrimary),
    nodes: nodes.map((n) => cpuSeconds(n.pid)),
    rest: cpuOf(rest),
    self: process.cpuUsage(),
  };
  console.log(
    `[cluster-bench] ${flags.label}: rush of ${tokens.length} fans over ${flags.drops} drops`,
  );
  // One generator for every drop (fan i grabs drop i mod N): one process's CPU, not N.
  const body = JSON.stringify(phoneRush.grab.body);
  const result = await drive({
    origin: stack.origin,
    count: tokens.length,
    connections: flags.connections,
    maxSeconds: flags.seconds,
    call: (i) => ({
      path: fill(phoneRush.grab.path, { dropId: drops[i % drops.length].id }),
      headers: bearer(tokens[i]),
      body,
    }),
    keepBodies: [201],
  });
  // From the first request sent to the last answer (the generator's own clock).
  const seconds = result.seconds;
  const self = process.cpuUsage(before.self);
  const answered = result.answered;
  const heldBy = new Map<string, number>();
  for (const text of result.bodies) {
    const dropId = (JSON.parse(text) as { dropId?: string }).dropId ?? '';
    heldBy.set(dropId, (heldBy.get(dropId) ?? 0) + 1);
  }
  const heldPerDrop = drops.map((d) => heldBy.get(d.id) ?? 0);
  const held = result.statuses['201'] ?? 0;
  const soldOut = result.codes.SOLD_OUT ?? 0;
  const errors = answered - held - soldOut + result.failures;
  const generatorCpu = result.generator.cpuSeconds;
  const us = (cpu: number) => Math.round((cpu * 1e6) / Math.max(1, answered));
  const nodeUs = nodes.map((n, i) => ({
    port: n.port,
    slots: n.slots,
    us: us(cpuSeconds(n.pid) - before.nodes[i]),
  }));
  const apiUs = apiInstances.map((p, i) => us(cpuSeconds(p) - before.api[i]));
  // Stats are analytics' view, a moment behind: wait until every 201 shows, or a bound.
  let oversold = 0;
  for (const [d, drop] of drops.entries()) {
    let s = await stats(stack, brand, drop.id);
    const deadline = Date.now() + 20_000;
    while (s.held + s.paid < heldPerDrop[d] && Date.now() < deadline) {
      await sleep(200);
      s = await stats(stack, brand, drop.id);
    }
    oversold += Math.max(0, s.held + s.paid - flags.quantity);
  }
  const row = {
    at: new Date().toISOString(),
    label: flags.label,
    drops: flags.drops,
    quantity: flags.quantity,
    fans: tokens.length,
    connections: flags.connections,
    answered,
    held,
    soldOutAll: held === flags.quantity * flags.drops,
    errors,
    oversold,
    seconds: Number(seconds.toFixed(2)),
    grabsPerSecond: Math.round(result.rate),
    cpuUsPerGrab: {
      apiInstances: apiUs,
      apiPrimary: us(cpuOf(apiPrimary) - before.apiPrimary),
      redisNodes: nodeUs,
      redisTotal: nodeUs.reduce((s, n) => s + n.us, 0),
      restOfStack: us(cpuOf(rest) - before.rest),
      // The runner itself (autocannon, when it is the generator) and an external generator.
      runner: us((self.user + self.system) / 1e6),
      generator: us(generatorCpu),
    },
    generator: result.generator.name,
    cores: cpus().length,
    load1mBefore: Number(load0.toFixed(2)),
    load1mAfter: Number(loadavg()[0].toFixed(2)),
  };
  if (flags.out) appendFileSync(flags.out, JSON.stringify(row) + '\n');
  console.log(JSON.stringify(row));
  const c = row.cpuUsPerGrab;
  console.log(
    `| ${row.label} | ${row.grabsPerSecond.toLocaleString('en')} /s | ${c.apiInstances.join(' + ')} us | ` +
      `${c.redisNodes
        .filter((n) => n.slots > 0 || n.us > 5)
        .map((n) => `${n.port}: ${n.us}`)
        .join(', ')} us ` +
      `(sum ${c.redisTotal}) | ${c.restOfStack} us | ${c.generator || c.runner} us | ` +
      `${row.held}/${row.quantity * row.drops}, ${row.errors} errors, ${row.oversold} oversold | ` +
      `${row.load1mBefore}-${row.load1mAfter} |`,
  );
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
