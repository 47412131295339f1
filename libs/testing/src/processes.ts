import { ChildProcess, execFileSync, spawn } from 'node:child_process';
import { openSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import {
  connectRedis,
  createRedis,
  isCluster,
  RedisClient,
  RedisConnectOptions,
} from '@flashdrop/persistence';
import { REPO_ROOT, testConfig, testProfileEnv } from './test-env';
import { eventually } from './api-client';

/** The commands' bundle (scripts/cli.ts), built by npm run build. */
const CLI = join(REPO_ROOT, 'dist/scripts/cli.js');

/** Runs the migrations of one schema (`sales`, `wallet`, `webhooks`) into the database at `url`. */
export function migrateSchema(schema: 'sales' | 'wallet' | 'webhooks', url: string): void {
  execFileSync(process.execPath, [CLI, 'migrate', `--only=${schema}`], {
    env: { ...process.env, ...testProfileEnv(), DATABASE_URL: url },
    stdio: 'ignore',
  });
}

/**
 * Creates the stack's topics under `topicPrefix` on the test stack's broker (the `topics`
 * migration): for a service of a test's own whose events must reach no stack consumer.
 */
export function createTopics(topicPrefix: string): void {
  execFileSync(process.execPath, [CLI, 'migrate', '--only=topics'], {
    env: { ...process.env, ...testProfileEnv(), KAFKA_TOPIC_PREFIX: topicPrefix },
    stdio: 'ignore',
  });
}

/** True once something accepts TCP connections on 127.0.0.1:port. */
export function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/**
 * A Redis server of the test's own, started with the project's script on another port, so a
 * test can `kill -9` it without disturbing anything else.
 */
export class DedicatedRedis {
  constructor(readonly port: number) {}

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  start(): void {
    execFileSync('bash', [join(REPO_ROOT, 'infra/redis.sh'), 'start'], {
      env: { ...process.env, REDIS_PORT: String(this.port) },
      stdio: 'ignore',
    });
  }

  stop(): void {
    execFileSync('bash', [join(REPO_ROOT, 'infra/redis.sh'), 'stop'], {
      env: { ...process.env, REDIS_PORT: String(this.port) },
      stdio: 'ignore',
    });
  }

  connect(options: RedisConnectOptions = {}): RedisClient {
    return createRedis(this.url, options);
  }

  /** What points a process (a service, a command) at this server, also under test:cluster. */
  processEnv(): Record<string, string> {
    return { REDIS_URL: this.url, REDIS_CLUSTER_NODES: '' };
  }

  /** Empties it (it is the test's own). */
  async flush(): Promise<void> {
    const redis = createRedis(this.url);
    await redis.flushdb();
    await redis.quit();
  }

  /** `kill -9` of the server: what a crash looks like. */
  kill9(): void {
    const pid = this.pid();
    if (pid) process.kill(pid, 'SIGKILL');
  }

  /**
   * SIGSTOP: the server keeps its connections open and answers nothing, as a hung process or
   * a lost network looks to a client (no error, no close). `resume` (SIGCONT) lets it go on.
   * Answers the pid, for `resume`.
   */
  pause(): number {
    const pid = this.pid();
    if (!pid) throw new Error(`no redis on port ${this.port}`);
    process.kill(pid, 'SIGSTOP');
    return pid;
  }

  resume(pid: number): void {
    process.kill(pid, 'SIGCONT');
  }

  private pid(): number | undefined {
    const pid = execFileSync('bash', [
      '-c',
      `redis-cli -p ${this.port} info server | grep process_id | cut -d: -f2`,
    ])
      .toString()
      .trim();
    return pid ? Number(pid) : undefined;
  }
}

/**
 * A Redis Cluster of the test's own (infra/redis-cluster.sh on six ports from `firstPort`, its
 * own data dir), so a test can `kill -9` a primary or delete a node's data without touching the
 * slot's cluster of `npm run test:cluster`.
 */
export class DedicatedRedisCluster {
  /**
   * `nodeTimeoutMs`: how long a silent node has before the others fail it over
   * (REDIS_CLUSTER_NODE_TIMEOUT). Short (1.5 s) for the specs that kill a primary and wait for its
   * replica; a spec that must never see a failover passes a long one (dedicatedSaleRedis).
   */
  constructor(
    readonly firstPort: number,
    private readonly nodeTimeoutMs = 1_500,
  ) {}

  get ports(): number[] {
    return [0, 1, 2, 3, 4, 5].map((i) => this.firstPort + i);
  }

  /** The seed list for REDIS_CLUSTER_NODES. */
  get nodes(): string {
    return this.ports.map((p) => `127.0.0.1:${p}`).join(',');
  }

  start(): void {
    if (this.run('start') !== 0) throw new Error(`redis cluster ${this.firstPort} did not start`);
  }

  stop(): void {
    this.run('stop');
  }

  /** A connection as the services open one when REDIS_CLUSTER_NODES names this cluster. */
  connect(options: RedisConnectOptions = {}): RedisClient {
    return connectRedis(
      {
        REDIS_URL: 'redis://unused',
        redisClusterNodes: this.ports.map((port) => ({ host: '127.0.0.1', port })),
      },
      options,
    );
  }

  /** What points a process (a service, a command) at this cluster. */
  processEnv(): Record<string, string> {
    return { REDIS_CLUSTER_NODES: this.nodes };
  }

  /** Empties it (FLUSHALL on each primary: it is the test's own). */
  async flush(): Promise<void> {
    if (this.run('flush') !== 0)
      throw new Error(`redis cluster ${this.firstPort} could not be flushed`);
  }

  /** Runs one command of the cluster script (start, stop, reset, status, ...); answers its exit code. */
  run(command: string): number {
    try {
      execFileSync('bash', [join(REPO_ROOT, 'infra/redis-cluster.sh'), command], {
        env: {
          ...process.env,
          REDIS_CLUSTER_PORT: String(this.firstPort),
          REDIS_CLUSTER_NODE_TIMEOUT: String(this.nodeTimeoutMs),
        },
        stdio: 'ignore',
      });
      return 0;
    } catch (error) {
      const status = (error as { status?: number }).status;
      if (typeof status === 'number') return status;
      throw error;
    }
  }

  /** The data folder of one node (its AOF and nodes.conf). */
  nodeDir(port: number): string {
    const root = process.env.FLASHDROP_DATA_DIR ?? join(REPO_ROOT, '.data');
    return join(root, `redis-cluster-${this.firstPort}`, String(port));
  }

  /** The node's role as it says itself: 'master' or 'slave'. */
  role(port: number): string {
    return execFileSync('bash', [
      '-c',
      `redis-cli -p ${port} info replication | tr -d '\\r' | grep '^role:' | cut -d: -f2`,
    ])
      .toString()
      .trim();
  }

  /** `kill -9` of one node. */
  kill9(port: number): void {
    const pid = execFileSync('bash', [
      '-c',
      `redis-cli -p ${port} info server | tr -d '\\r' | grep process_id | cut -d: -f2`,
    ])
      .toString()
      .trim();
    if (pid) process.kill(Number(pid), 'SIGKILL');
  }

  /**
   * The pid of the node on `port`, as it reports it (ask before stopping it: a node stopped with
   * SIGSTOP answers nothing).
   */
  pidOf(port: number): number {
    const info = execFileSync('redis-cli', ['-p', String(port), 'info', 'server']).toString();
    const pid = /process_id:(\d+)/.exec(info)?.[1];
    if (!pid) throw new Error(`no redis-server answers on ${port}`);
    return Number(pid);
  }

  /**
   * Closes a primary's connections to its replicas (CLIENT KILL TYPE replica): until a replica
   * connects again, nothing the primary writes reaches it (a replica stopped with SIGSTOP
   * cannot connect again).
   */
  dropReplicaLinks(primary: number): void {
    execFileSync('redis-cli', ['-p', String(primary), 'client', 'kill', 'type', 'replica']);
  }

  /** The port of a primary's replica, as the primary reports it. */
  replicaOf(primary: number): number {
    const info = execFileSync('redis-cli', [
      '-p',
      String(primary),
      'info',
      'replication',
    ]).toString();
    const port = /slave0:.*port=(\d+)/.exec(info)?.[1];
    if (!port) throw new Error(`primary ${primary} reports no replica`);
    return Number(port);
  }

  /** The port of the primary that serves `key` now, as `redis` (a connection to it) sees it. */
  async primaryServing(redis: RedisClient, key: string): Promise<number> {
    if (!isCluster(redis)) throw new Error('not a cluster connection');
    const slot = Number(await redis.call('CLUSTER', 'KEYSLOT', key));
    const [node] = redis.slots[slot];
    return Number(node.split(':')[1]);
  }
}

/** A Redis server or cluster of a test's own: what a script-level suite runs on. */
export type DedicatedSaleRedis = DedicatedRedis | DedicatedRedisCluster;

/**
 * The Redis a script-level suite runs on, of its own: one server on `singlePort`, or, when the
 * run is on a Redis Cluster (npm run test:cluster), a cluster of six from `clusterFirstPort`,
 * so the same tests show the scripts hold on both.
 */
export function dedicatedSaleRedis(
  singlePort: number,
  clusterFirstPort: number,
): DedicatedSaleRedis {
  // A script spec's cluster must never fail over under it: with npm test's parts side by side on
  // 2 cores, a node can stall past 1.5 s (a ci-local run saw two failovers mid-spec, and its
  // commands answered "Connection is closed"). 15 s outlasts any stall seen here.
  return testConfig().redisClusterNodes
    ? new DedicatedRedisCluster(clusterFirstPort, 15_000)
    : new DedicatedRedis(singlePort);
}

/**
 * One of the built services (dist/apps/<name>/main.js) as a child process of the test, with
 * the test profile's environment plus `env`. Killable with SIGKILL.
 */
export class ServiceProcess {
  private child?: ChildProcess;

  constructor(
    readonly name: 'api' | 'wallet' | 'analytics' | 'worker' | 'notifier',
    readonly env: Record<string, string>,
    readonly logFile = `/tmp/flashdrop-${name}-${process.pid}.log`,
    /** The build to run (another worktree's, to compare before and after a change). */
    readonly mainPath = join(REPO_ROOT, `dist/apps/${name}/main.js`),
    /** More than one: that many instances behind the service's one port (scripts/instances.js). */
    readonly instances = 1,
  ) {}

  start(): void {
    const out = openSync(this.logFile, 'a');
    const main = this.mainPath;
    const args =
      this.instances > 1
        ? [join(REPO_ROOT, 'scripts/instances.js'), `--count=${this.instances}`, main]
        : [main];
    this.child = spawn(process.execPath, args, {
      env: {
        ...process.env,
        ...testProfileEnv(),
        // A test that gives its service a Redis of its own (REDIS_URL) means that one, also
        // when the stack runs on a Redis Cluster (npm run test:cluster).
        ...(this.env.REDIS_URL ? { REDIS_CLUSTER_NODES: '' } : {}),
        ...this.env,
      },
      stdio: ['ignore', out, out],
    });
  }

  // Generous: a bundle takes 20 s and more to boot on a loaded shared box; a healthy one answers
  // at once, so only a failure waits the whole time.
  async waitForHttp(url: string, timeoutMs = 60_000): Promise<void> {
    const ok = await eventually(async () => (await fetch(url)).status < 500, timeoutMs, 100);
    if (!ok)
      throw new Error(
        `${this.name} did not answer ${url} within ${timeoutMs} ms (log: ${this.logFile})`,
      );
  }

  /** The process id while it runs (for /proc CPU readings and signals). */
  get pid(): number | undefined {
    return this.child?.pid;
  }

  kill9(): void {
    this.child?.kill('SIGKILL');
  }

  async stop(): Promise<void> {
    const child = this.child;
    // A process killed by a signal (kill9) has no exit code, only its signal: it is gone too.
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    await new Promise<void>((resolve) => {
      child.once('exit', () => resolve());
      child.kill('SIGTERM');
      setTimeout(() => child.kill('SIGKILL'), 5000).unref();
    });
  }
}

/**
 * A Kafka broker of the test's own (infra/kafka.sh on other ports, its own data dir), so a test
 * can `kill -9` it without disturbing the shared broker. Its topics are created with the
 * worker's `topics` command, as on the shared one.
 */
export class DedicatedKafka {
  constructor(
    readonly port: number,
    readonly controllerPort: number,
  ) {}

  get brokers(): string {
    return `127.0.0.1:${this.port}`;
  }

  private env(): NodeJS.ProcessEnv {
    return {
      ...process.env,
      KAFKA_PORT: String(this.port),
      KAFKA_CONTROLLER_PORT: String(this.controllerPort),
      KAFKA_HEAP: process.env.KAFKA_HEAP ?? '-Xms256m -Xmx512m',
    };
  }

  start(): void {
    execFileSync('bash', [join(REPO_ROOT, 'infra/kafka.sh'), 'start'], {
      env: this.env(),
      stdio: 'ignore',
    });
  }

  stop(): void {
    execFileSync('bash', [join(REPO_ROOT, 'infra/kafka.sh'), 'stop'], {
      env: this.env(),
      stdio: 'ignore',
    });
  }

  /** Creates the stack's topics (with the env's KAFKA_TOPIC_PREFIX) on this broker. */
  createTopics(env: Record<string, string> = {}): void {
    execFileSync(process.execPath, [CLI, 'migrate', '--only=topics'], {
      env: { ...process.env, ...testProfileEnv(), ...env, KAFKA_BROKERS: this.brokers },
      stdio: 'ignore',
    });
  }

  /** `kill -9` of the broker: what a crash looks like. */
  kill9(): void {
    const dataDir = process.env.FLASHDROP_DATA_DIR ?? join(REPO_ROOT, '.data');
    const pid = execFileSync('bash', ['-c', `cat ${dataDir}/kafka/run/${this.port}.pid`])
      .toString()
      .trim();
    if (pid) process.kill(Number(pid), 'SIGKILL');
  }
}

/**
 * A PostgreSQL cluster of the test's own (infra/postgres.sh with its own PG_PORT and data
 * directory), so a test can `kill -9` it without touching the shared server. Small buffers:
 * it only serves one test.
 */
export class DedicatedPostgres {
  constructor(readonly port: number) {}

  /** The `flashdrop_test` database of this cluster. */
  get url(): string {
    return `postgres://flashdrop:flashdrop@127.0.0.1:${this.port}/flashdrop_test`;
  }

  private script(action: 'start' | 'stop' | 'status'): string {
    return execFileSync('bash', [join(REPO_ROOT, 'infra/postgres.sh'), action], {
      env: { ...process.env, PG_PORT: String(this.port), PG_SHARED_BUFFERS: '64MB' },
      stdio: ['ignore', 'pipe', 'ignore'],
    }).toString();
  }

  start(): void {
    this.script('start');
  }

  stop(): void {
    this.script('stop');
  }

  /** `kill -9` of the postmaster: what a crash of the database server looks like. */
  kill9(): void {
    const pid = this.postmasterPid();
    if (pid) process.kill(pid, 'SIGKILL');
  }

  /**
   * `kill -9` of the postmaster and of every process it started: the whole server gone at once,
   * as a machine or container crash looks (kill9 alone leaves the backends serving the
   * connections they have until they notice).
   */
  crash(): void {
    const postmaster = this.postmasterPid();
    if (!postmaster) return;
    const pids = [postmaster, ...this.childrenOf(postmaster)];
    for (const pid of pids) process.kill(pid, 'SIGKILL');
  }

  /**
   * SIGSTOP of the postmaster and of every process it started (each connection's backend, the
   * writer, the WAL writer...): connections stay open and nothing answers, no error, no close,
   * as a hung server or a lost network looks to a client. Answers the stopped pids, for
   * `resume` (SIGCONT), which lets them go on.
   */
  pause(): number[] {
    const postmaster = this.postmasterPid();
    if (!postmaster) throw new Error(`no postgres on port ${this.port}`);
    // The postmaster first: it starts no backend while stopped, so the list below is complete.
    process.kill(postmaster, 'SIGSTOP');
    const children = this.childrenOf(postmaster);
    for (const pid of children) process.kill(pid, 'SIGSTOP');
    return [postmaster, ...children];
  }

  resume(pids: readonly number[]): void {
    for (const pid of [...pids].reverse()) process.kill(pid, 'SIGCONT');
  }

  private childrenOf(postmaster: number): number[] {
    return execFileSync('ps', ['-o', 'pid=', '--ppid', String(postmaster)])
      .toString()
      .split('\n')
      .map((line) => Number(line.trim()))
      .filter((pid) => pid > 0);
  }

  private postmasterPid(): number | undefined {
    const pid = /pid=(\d+)/.exec(this.script('status'))?.[1];
    return pid ? Number(pid) : undefined;
  }
}
